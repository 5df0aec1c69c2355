"""Read queries over ``messages`` for operators and sweepers: what failed, what stalled,
what no worker holds, where a message ended up, how many are where."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection


def failed_ids(conn: Connection, org_id: UUID | None = None, limit: int = 10_000) -> list[int]:
    """Messages parked in ``failed`` (of one organization, or all), oldest first."""
    rows = conn.execute(
        """SELECT id FROM messages WHERE state = 'failed'
             AND (%(org)s::uuid IS NULL OR org_id = %(org)s)
           ORDER BY id LIMIT %(limit)s""",
        {"org": org_id, "limit": limit},
    ).fetchall()
    return [r["id"] for r in rows]


def stalled(conn: Connection, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Messages whose pending stage has not moved for ``older_than_seconds``."""
    rows = conn.execute(
        """SELECT id FROM messages
           WHERE stage IS NOT NULL AND state IN ('received', 'processing')
             AND state_changed_at < now() - make_interval(secs => %s)
           ORDER BY state_changed_at LIMIT %s""",
        (older_than_seconds, limit),
    ).fetchall()
    return [r["id"] for r in rows]


def unclaimed(
    conn: Connection, grace_seconds: float, lost_after_seconds: float | None, limit: int = 500
) -> list[int]:
    """Pending messages no worker holds (their row is not locked) that were never handed
    over ``grace_seconds`` after their last change, or, with ``lost_after_seconds``, were
    handed over that long ago and have not moved since."""
    rows = conn.execute(
        """SELECT id FROM messages
           WHERE stage IS NOT NULL AND state IN ('received', 'processing')
             AND ((handed_over_at IS NULL
                   AND state_changed_at < now() - make_interval(secs => %(grace)s))
               OR (%(lost)s::float8 IS NOT NULL
                   AND handed_over_at < now() - make_interval(secs => %(lost)s)
                   AND state_changed_at < now() - make_interval(secs => %(lost)s)))
           ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
        {"grace": grace_seconds, "lost": lost_after_seconds, "limit": limit},
    ).fetchall()
    return [r["id"] for r in rows]


def ticket_outcome(conn: Connection, message_id: int) -> dict[str, Any] | None:
    """``state`` and ``ticket_id`` of a message; a duplicate's ticket is its original's."""
    return conn.execute(
        """SELECT m.state, COALESCE(m.ticket_id, d.ticket_id) AS ticket_id
           FROM messages m LEFT JOIN messages d ON d.id = m.duplicate_of WHERE m.id = %s""",
        (message_id,),
    ).fetchone()


def count_by_channel_and_state(conn: Connection) -> list[dict[str, Any]]:
    """``channel``, ``state`` and ``n``: how many messages of every organization are where."""
    return conn.execute(
        "SELECT channel, state, count(*) AS n FROM messages GROUP BY channel, state"
    ).fetchall()
