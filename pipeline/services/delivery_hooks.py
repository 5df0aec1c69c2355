"""Store a delivery event against an organization's sent mail and raise ``delivery.<event>``.

Providers write Message-IDs with or without angle brackets (Mailgun drops them); the event
is stored under the form the sent mail has, so ``deliveries.record`` links the two.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from pipeline import events
from pipeline.db import Connection
from pipeline.jobs import Job
from pipeline.store import deliveries
from pipeline.store.deliveries import DeliveryEvent


def id_forms(message_id: str) -> tuple[str, str]:
    """``(<id>, id)``: the bracketed and the bare form of a Message-ID."""
    bare = message_id.strip().strip("<>")
    return f"<{bare}>", bare


def orgs_sending(conn: Connection, message_id: str) -> list[UUID]:
    """Organizations that sent a mail with ``message_id`` (in either form)."""
    rows = conn.execute(
        "SELECT DISTINCT org_id FROM sent_mails WHERE message_id = ANY(%s)",
        (list(id_forms(message_id)),),
    ).fetchall()
    return [r["org_id"] for r in rows]


def stored_form(conn: Connection, org_id: UUID, message_id: str) -> str:
    """``message_id`` as the organization's sent mail spells it (bracketed when unknown)."""
    row = conn.execute(
        "SELECT message_id FROM sent_mails WHERE org_id = %s AND message_id = ANY(%s) LIMIT 1",
        (org_id, list(id_forms(message_id))),
    ).fetchone()
    return row["message_id"] if row else id_forms(message_id)[0]


def record(
    conn: Connection, org_id: UUID, event: DeliveryEvent
) -> tuple[int | None, tuple[Job, ...]]:
    """Store ``event`` once; return its id (``None`` if already stored) and webhook jobs."""
    if event.message_id:
        event = replace(event, message_id=stored_form(conn, org_id, event.message_id))
    event_id = deliveries.record(conn, org_id, event)
    if event_id is None:
        return None, ()
    sent = conn.execute("SELECT sent_mail_id FROM delivery_events WHERE id = %s", (event_id,))
    data = {
        "id": event_id,
        "event": event.event,
        "provider": event.provider,
        "message_id": event.message_id,
        "sent_mail_id": sent.fetchone()["sent_mail_id"],
        "recipient": event.recipient,
        "status_code": event.status_code,
        "diagnostic": event.diagnostic,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
    }
    key = f"delivery:{event.provider}:{event.provider_event_id}"
    return event_id, events.emit(conn, org_id, f"delivery.{event.event}", key, data)
