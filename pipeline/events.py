"""Raise webhook events: one stored event, one pending delivery per subscribed webhook.

``emit`` is idempotent by ``dedupe_key`` (a stage that runs twice raises its event once)
and returns the delivery jobs for the caller to enqueue after commit.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.jobs import Job
from pipeline.store import webhooks

DELIVER_ACTOR = "deliver_webhook"


def emit(
    conn: Connection, org_id: UUID, event_type: str, dedupe_key: str, data: dict[str, Any]
) -> tuple[Job, ...]:
    """Record ``event_type`` for ``org_id`` once; return a delivery job per subscriber."""
    event_id = webhooks.record_event(conn, org_id, event_type, dedupe_key, data)
    if event_id is None:
        return ()
    deliveries = webhooks.queue_deliveries(conn, org_id, event_id, event_type)
    return tuple(Job(DELIVER_ACTOR, (delivery_id,)) for delivery_id in deliveries)
