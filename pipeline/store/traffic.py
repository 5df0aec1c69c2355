"""SQL for the flood guard: how much mail one sender sent an organization lately."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pipeline.db import Connection


def recent_from_sender(
    conn: Connection,
    org_id: UUID,
    sender: str,
    until: datetime,
    window_seconds: int,
    exclude_id: int,
) -> int:
    """Messages from ``sender`` received in the ``window_seconds`` up to ``until``, other
    than ``exclude_id`` and duplicates."""
    row = conn.execute(
        """SELECT count(*) AS n FROM messages
           WHERE org_id = %s AND from_address = %s AND id <> %s AND state <> 'duplicate'
             AND received_at <= %s AND received_at > %s - make_interval(secs => %s)""",
        (org_id, sender, exclude_id, until, until, window_seconds),
    ).fetchone()
    return int(row["n"])
