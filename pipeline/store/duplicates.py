"""SQL for dedupe keys: the ``message_keys`` primary key decides who was first."""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection


def claim_key(conn: Connection, org_id: UUID, message_id: int, key: str) -> int | None:
    """Give message ``message_id`` the dedupe ``key``; return ``None`` if it now holds it,
    else the id of the message that already does.

    Two workers claiming the same key at once: the second waits on the primary key until
    the first commits, then inserts nothing and reads the holder, so exactly one wins.
    """
    row = conn.execute(
        """INSERT INTO message_keys (org_id, key, message_id) VALUES (%s, %s, %s)
           ON CONFLICT (org_id, key) DO NOTHING RETURNING message_id""",
        (org_id, key, message_id),
    ).fetchone()
    if row is not None:
        return None
    holder = conn.execute(
        "SELECT message_id FROM message_keys WHERE org_id = %s AND key = %s", (org_id, key)
    ).fetchone()
    if holder is None:  # the holder was deleted meanwhile: transient, Dramatiq retries
        raise RuntimeError(f"the holder of dedupe key {key!r} went away; retrying")
    return int(holder["message_id"])
