"""Raise webhook events: one stored event, one pending delivery per subscribed webhook.

``emit`` is idempotent by ``dedupe_key`` (a stage that runs twice raises its event once)
and returns the delivery jobs for the caller to enqueue after commit.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection
from pipeline.jobs import Job

DELIVER_ACTOR = "deliver_webhook"


def emit(
    conn: Connection, org_id: UUID, event_type: str, dedupe_key: str, data: dict[str, Any]
) -> tuple[Job, ...]:
    """Record ``event_type`` for ``org_id`` once; return a delivery job per subscriber."""
    row = conn.execute(
        """INSERT INTO webhook_events (org_id, type, dedupe_key, payload)
           VALUES (%s, %s, %s, %s) ON CONFLICT (org_id, dedupe_key) DO NOTHING
           RETURNING id, created_at""",
        (org_id, event_type, dedupe_key, Jsonb(data)),
    ).fetchone()
    if row is None:
        return ()
    deliveries = conn.execute(
        """INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, status)
           SELECT org_id, id, %s, 'pending' FROM webhooks
           WHERE org_id = %s AND is_active AND %s = ANY(events)
           RETURNING id""",
        (row["id"], org_id, event_type),
    ).fetchall()
    return tuple(Job(DELIVER_ACTOR, (d["id"],)) for d in deliveries)
