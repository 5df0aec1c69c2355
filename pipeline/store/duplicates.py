"""SQL for dedupe keys: the ``messages_dedupe`` unique index decides who was first."""

from __future__ import annotations

from uuid import UUID

import psycopg

from pipeline.db import Connection


def claim_key(conn: Connection, org_id: UUID, message_id: int, key: str) -> int | None:
    """Give message ``message_id`` the dedupe ``key``; return ``None`` if it now holds it,
    else the id of the message that already does.

    Two workers setting the same key at once: the second waits on the unique index until
    the first commits, then gets a violation, so exactly one wins. The savepoint keeps the
    stage's transaction usable after the violation.
    """
    try:
        with conn.transaction():
            conn.execute(
                """UPDATE messages SET dedupe_key = %s
                   WHERE id = %s AND dedupe_key IS DISTINCT FROM %s""",
                (key, message_id, key),
            )
        return None
    except psycopg.errors.UniqueViolation:
        row = conn.execute(
            "SELECT id FROM messages WHERE org_id = %s AND dedupe_key = %s", (org_id, key)
        ).fetchone()
        if row is None:  # the holder was deleted meanwhile: try again later
            raise
        return int(row["id"])
