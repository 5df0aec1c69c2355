"""The organization's filter lists hold each entry once, even when two adds race."""

from __future__ import annotations

import secrets
import threading

import psycopg

from pipeline.store import filter_lists

UNIQUE_MIGRATION = "0670_filter_list_unique"


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


def test_the_uniqueness_migration_keeps_the_oldest_of_entries_added_twice():
    """Lists filled before the unique index may hold an entry twice (in two cases)."""
    from yoyo import get_backend, read_migrations

    from pipeline.migrate import MIGRATIONS, yoyo_uri
    from tests.conftest import SERVER_DB, _with_database

    name = f"intake_migration_{secrets.token_hex(4)}"
    with psycopg.connect(SERVER_DB, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(SERVER_DB, name)
    try:
        backend = get_backend(yoyo_uri(url))
        migrations = read_migrations(str(MIGRATIONS))
        before = backend.to_apply(migrations).filter(lambda m: m.id != UNIQUE_MIGRATION)
        backend.apply_migrations(before)
        with psycopg.connect(url, autocommit=True) as db:
            org = db.execute("INSERT INTO organizations (name) VALUES ('A') RETURNING id")
            org_id = org.fetchone()[0]
            for email in ("bob@example.org", "BOB@example.org", "eve@example.org"):
                db.execute(
                    "INSERT INTO excluded_emails (org_id, email) VALUES (%s, %s)", (org_id, email)
                )
        backend.apply_migrations(backend.to_apply(migrations))
        with psycopg.connect(url) as db:
            rows = db.execute("SELECT email FROM excluded_emails ORDER BY id").fetchall()
        assert [r[0] for r in rows] == ["bob@example.org", "eve@example.org"]
    finally:
        with psycopg.connect(SERVER_DB, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
