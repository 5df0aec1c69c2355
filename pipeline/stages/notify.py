"""notify: raise the message's webhook events and mark it ``notified``.

Raised here: ``email.received`` for every message that reaches this stage, and
``ticket.created`` / ``ticket.replied`` for the ticket it opened or answered. Other stages
raise their own (``email.categorized``, ``voicemail.received``). Events are keyed
``<type>:<ticket id>`` for ``ticket.created`` and ``<type>:<message id>`` otherwise, so
whichever stage raises one first, it is raised once. Delivery happens in the
``deliver_webhook`` actor, after commit; an organization without subscriptions for a type
stores nothing for it.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.events import emit
from pipeline.jobs import Job
from pipeline.outcomes import Continue
from pipeline.records import Message


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    wanted = ctx.org(conn, msg).subscribed_events
    jobs: list[Job] = []
    raised: list[str] = []
    for event_type, key, data in planned_events(conn, msg, wanted):
        jobs += emit(conn, msg.org_id, event_type, key, data)
        raised.append(event_type)
    return Continue({"events": raised}, jobs=tuple(jobs), changes={"notified": True})


def planned_events(
    conn: Connection, msg: Message, wanted: set[str] | frozenset[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, dedupe key, data) of each event some subscription wants for ``msg``."""
    events = []
    if "email.received" in wanted:
        events.append(("email.received", f"email.received:{msg.id}", email_data(msg)))
    if msg.ticket_id is not None and wanted & {"ticket.created", "ticket.replied"}:
        ticket = conn.execute(
            """SELECT id, number, status, subject, exchange_count, source_message_id
               FROM tickets WHERE org_id = %s AND id = %s""",
            (msg.org_id, msg.ticket_id),
        ).fetchone()
        if ticket is not None:
            events += _ticket_event(msg, ticket, wanted)
    return events


def _ticket_event(msg: Message, ticket: dict, wanted: set[str] | frozenset[str]) -> list:
    data = {
        "ticket_id": ticket["id"],
        "number": ticket["number"],
        "status": ticket["status"],
        "subject": ticket["subject"],
        "exchange_count": ticket["exchange_count"],
        "email": email_data(msg),
    }
    if ticket["source_message_id"] == msg.id:
        kind, key = "ticket.created", f"ticket.created:{ticket['id']}"
    else:
        kind, key = "ticket.replied", f"ticket.replied:{msg.id}"
    return [(kind, key, data)] if kind in wanted else []


def email_data(msg: Message) -> dict[str, Any]:
    """The message as webhook subscribers see it (the ``002_…`` email field names)."""
    return {
        "id": msg.id,
        "account_id": msg.mailbox_id,
        "message_id": msg.message_id,
        "from_address": msg.from_address,
        "from_name": msg.from_name,
        "to_addresses": msg.to_addresses,
        "cc_addresses": msg.cc_addresses,
        "subject": msg.subject,
        "received_at": msg.received_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "has_attachments": msg.has_attachments,
        "attachment_count": msg.attachment_count,
        "ticket_id": msg.ticket_id,
        "channel": msg.channel,
    }
