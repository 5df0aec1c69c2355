"""An API client's order for the mail it inserted (``003_…`` ``insertTicket``), as the
stages read and apply it.

The order is kept in ``analysis.api``: Mail Flow stages are bypassed (``bypassed``),
match_thread takes the ticket the client named, and the ticket stage places the mail
(``add_note`` for a private note) and applies the client's labels, agents and status
(``apply_actions``). Taking the order in is ``pipeline.services.message_api``'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import (
    attachments,
    contacts,
    ticket_agents,
    ticket_messages,
    tickets,
    tracking_events,
)

ORDER_KEY = "api"  # analysis key of the client's order


@dataclass(frozen=True)
class Order:
    """What the client asked for, checked, as the stages read it from ``analysis.api``."""

    ticket_id: int | None
    message_type: str
    agent_id: int
    agent_ids: tuple[int, ...] = ()
    labels: tuple[str, ...] = ()
    status: str | None = None
    auto_reply: bool = True


def order_of(msg: Message) -> Order | None:
    """The API client's order for ``msg``; ``None`` for mail from any other channel."""
    stored = msg.analysis.get(ORDER_KEY)
    if not stored:
        return None
    return Order(
        ticket_id=stored.get("ticket_id"),
        message_type=stored.get("message_type", "external"),
        agent_id=stored["agent_id"],
        agent_ids=tuple(stored.get("agent_ids") or ()),
        labels=tuple(stored.get("labels") or ()),
        status=stored.get("status"),
        auto_reply=stored.get("auto_reply", True),
    )


def bypassed(msg: Message) -> Continue | None:
    """A Mail Flow stage's outcome for mail an API client inserted (``None`` otherwise)."""
    return Continue({"bypassed": "api"}) if ORDER_KEY in msg.analysis else None


def add_note(conn: Connection, msg: Message, target: int | None, agent_id: int) -> Continue:
    """A private note by the acting agent, on ``target`` or on a new ticket for the sender
    (the ticket stage's outcome: the message's ``ticket_id`` is in ``changes``)."""
    contact_id = contacts.find_or_create(conn, msg.org_id, msg.from_address, msg.from_name)
    ticket_id = target or tickets.create(
        conn,
        msg.org_id,
        subject=msg.subject or "(no subject)",
        contact_id=contact_id,
        mailbox_id=msg.mailbox_id,
        source_message_id=msg.id,
    )
    note_id = ticket_messages.add(
        conn,
        msg.org_id,
        ticket_id,
        contact_id=None,
        from_address=msg.from_address,
        from_name=msg.from_name,
        body_text=msg.body_text or "",
        body_html=msg.body_html,
        message_id=msg.id,
        kind="internal",
    )
    ticket_messages.set_agent(conn, msg.org_id, note_id, agent_id)
    attachments.move_to_ticket(conn, msg.id, ticket_id, note_id)
    tracking_events.track(
        conn, msg.org_id, ticket_id, "note", message_id=msg.id, data={"agent_id": agent_id}
    )
    action = "note_added" if target else "note_created"
    return Continue({"action": action, "ticket_id": ticket_id}, changes={"ticket_id": ticket_id})


def apply_actions(conn: Connection, org_id: UUID, ticket_id: int, order: Order) -> None:
    """The labels, agents and status the client asked for, each tracked on the ticket."""
    if order.labels:
        tickets.add_labels(conn, org_id, ticket_id, list(order.labels))
    if order.agent_ids:
        ticket_agents.add(conn, org_id, ticket_id, list(order.agent_ids))
        tickets.touch(conn, org_id, ticket_id)
    if order.status:
        tickets.set_status(conn, org_id, ticket_id, order.status)
    changes: tuple[tuple[str, Any], ...] = (
        ("labelled", list(order.labels)),
        ("assigned", list(order.agent_ids)),
        ("status", order.status),
    )
    for kind, value in changes:
        if value:
            tracking_events.track(
                conn, org_id, ticket_id, kind, data={"value": value, "agent_id": order.agent_id}
            )
