"""Store a delivery event against an organization's sent mail and raise ``delivery.<event>``.

Providers write Message-IDs with or without angle brackets (Mailgun drops them); the event
is stored under the form the sent mail has, so ``deliveries.record`` links the two.
"""

from __future__ import annotations

from dataclasses import replace
from uuid import UUID

from pipeline import event_payloads, events
from pipeline.db import Connection
from pipeline.jobs import Job
from pipeline.store import deliveries, sent_mails
from pipeline.store.deliveries import DeliveryEvent


def id_forms(message_id: str) -> tuple[str, str]:
    """``(<id>, id)``: the bracketed and the bare form of a Message-ID."""
    bare = message_id.strip().strip("<>")
    return f"<{bare}>", bare


def orgs_sending(conn: Connection, message_id: str) -> list[UUID]:
    """Organizations that sent a mail with ``message_id`` (in either form)."""
    return sent_mails.orgs_with_message_id(conn, list(id_forms(message_id)))


def stored_form(conn: Connection, org_id: UUID, message_id: str) -> str:
    """``message_id`` as the organization's sent mail spells it (bracketed when unknown)."""
    stored = sent_mails.stored_message_id(conn, org_id, list(id_forms(message_id)))
    return stored or id_forms(message_id)[0]


def record(
    conn: Connection, org_id: UUID, event: DeliveryEvent
) -> tuple[int | None, tuple[Job, ...]]:
    """Store ``event`` once; return its id (``None`` if already stored) and webhook jobs."""
    if event.message_id:
        event = replace(event, message_id=stored_form(conn, org_id, event.message_id))
    event_id = deliveries.record(conn, org_id, event)
    if event_id is None:
        return None, ()
    data = event_payloads.delivery(event_id, event, deliveries.sent_mail_of(conn, event_id))
    key = f"delivery:{event.provider}:{event.provider_event_id}"
    return event_id, events.emit(conn, org_id, f"delivery.{event.event}", key, data)
