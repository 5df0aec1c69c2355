"""The organization's filter lists hold each entry once, even when two adds race."""

from __future__ import annotations

import threading

from pipeline.store import filter_lists


def _waiting_on_a_lock(conn) -> bool:
    row = conn.execute(
        """SELECT count(*) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'"""
    ).fetchone()
    return row["n"] > 0


def test_two_concurrent_adds_of_the_same_entry_leave_one_row(pool, conn, org):
    second: list = []

    def add_again() -> None:
        with pool.connection() as other, other.transaction():
            second.append(filter_lists.add(other, "excluded_emails", org.org_id, "BOB@example.org"))

    with pool.connection() as first, first.transaction():
        added = filter_lists.add(first, "excluded_emails", org.org_id, "bob@example.org")
        racer = threading.Thread(target=add_again)
        racer.start()
        for _ in range(200):
            if _waiting_on_a_lock(conn):
                break
            racer.join(0.02)
        assert racer.is_alive(), "the second add must wait for the first to commit"
    racer.join(10)

    assert added is not None and second == [None]
    rows = filter_lists.entries(conn, "excluded_emails", org.org_id)
    assert [r["email"] for r in rows] == ["bob@example.org"]


def test_an_entry_is_refused_again_whatever_its_case(conn, org):
    assert filter_lists.add(conn, "ignored_subjects", org.org_id, " Newsletter ") is not None
    assert filter_lists.add(conn, "ignored_subjects", org.org_id, "NEWSLETTER") is None
    rows = filter_lists.entries(conn, "ignored_subjects", org.org_id)
    assert [r["subject"] for r in rows] == ["Newsletter"]
