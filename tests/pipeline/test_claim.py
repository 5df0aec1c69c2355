"""Claiming a message for a stage: by primary key whatever the statistics say, and only
when that stage is pending."""

from __future__ import annotations

import json

import pytest

from pipeline.store import messages
from tests.helpers import accept, mfs

MAIL = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: Printer on fire

    Please send help.
""")


def _index_scans(conn, query: str, message_id: int) -> set[str]:
    plan = conn.execute(f"EXPLAIN (FORMAT JSON) {query}", (message_id,)).fetchone()
    found: set[str] = set()

    def walk(node: dict) -> None:
        if "Index Name" in node:
            found.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    document = plan["QUERY PLAN"]
    walk((json.loads(document) if isinstance(document, str) else document)[0]["Plan"])
    return found


@pytest.mark.parametrize("query", [messages.CLAIM_SQL, messages.CLAIM_WITH_RAW_SQL])
def test_claims_during_a_burst_use_the_primary_key_when_statistics_say_nothing_is_pending(
    pool, conn, mailbox, query
):
    done = [accept(pool, MAIL, mailbox) for _ in range(200)]
    conn.execute("UPDATE messages SET stage = NULL, state = 'done' WHERE id = ANY(%s)", (done,))
    conn.execute("ANALYZE messages")
    burst = [accept(pool, MAIL, mailbox) for _ in range(100)]
    assert "messages_pkey" in _index_scans(conn, query, burst[50])
    assert "messages_pending" not in _index_scans(conn, query, burst[50])


def test_a_message_is_claimed_only_for_its_pending_stage(pool, conn, mailbox):
    message_id = accept(pool, MAIL, mailbox)
    with conn.transaction():
        assert messages.claim(conn, message_id, "dedupe") is None
        claimed = messages.claim_with_raw(conn, message_id, "parse")
        assert claimed is not None and claimed[1] == MAIL
    conn.execute("UPDATE messages SET stage = NULL, state = 'done' WHERE id = %s", (message_id,))
    with conn.transaction():
        assert messages.claim(conn, message_id, "parse") is None


def test_a_message_another_worker_holds_is_not_claimed(pool, conn, mailbox):
    message_id = accept(pool, MAIL, mailbox)
    with pool.connection() as other, other.transaction():
        assert messages.claim(other, message_id, "parse") is not None
        with conn.transaction():
            assert messages.claim(conn, message_id, "parse") is None
            assert messages.claim_with_raw(conn, message_id, "parse") is None
