"""notify: raise the message's webhook events and mark it ``notified``.

Raised here: ``email.received`` for every message that reaches this stage, and
``ticket.created`` / ``ticket.replied`` for the ticket it opened or answered. Other stages
raise their own (``email.categorized``, ``voicemail.received``). Events are keyed
``<type>:<ticket id>`` for ``ticket.created`` and ``<type>:<message id>`` otherwise, so
whichever stage raises one first, it is raised once (the ticket stage usually has; the
payloads are built in ``pipeline.event_payloads`` for both). Delivery happens in the
``deliver_webhook`` actor, after commit; an organization without subscriptions for a type
stores nothing for it.
"""

from __future__ import annotations

from typing import Any

from pipeline import event_payloads
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.events import emit
from pipeline.jobs import Job
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import tickets

TICKET_EVENTS = frozenset({"ticket.created", "ticket.replied"})


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
        events.append(("email.received", f"email.received:{msg.id}", event_payloads.email(msg)))
    if msg.ticket_id is not None and wanted & TICKET_EVENTS:
        ticket = tickets.detail(conn, msg.org_id, msg.ticket_id)
        if ticket is not None:
            events += _ticket_event(msg, ticket, wanted)
    return events


def _ticket_event(msg: Message, ticket: dict, wanted: set[str] | frozenset[str]) -> list:
    if ticket["source_message_id"] == msg.id:
        kind, key = "ticket.created", f"ticket.created:{ticket['id']}"
    else:
        kind, key = "ticket.replied", f"ticket.replied:{msg.id}"
    return [(kind, key, event_payloads.ticket(ticket, msg))] if kind in wanted else []
