"""Manual conversion of held mail (``000_…``): into a new ticket, or into a reply.

Both reuse the ticket stage's own steps (``open_ticket`` / ``add_reply``), so a converted
mail ends exactly like one the pipeline placed: contact found or created, attachments
moved, exchange counted, pending closure cancelled, tracking event recorded,
``ticket.created`` / ``ticket.replied`` raised (the jobs are returned for the caller to
enqueue after commit). Both are idempotent: the second call finds the ticket message
already there and adds nothing.

A reply held under ``closed_reply_policy=hold`` has no ``ticket_id`` yet (the document
sets it on conversion), but the ticket its thread matched is in its ``analysis``; ``/reply``
puts it there and reopens the ticket, as the ``reopen`` policy would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pipeline.db import Connection
from pipeline.errors import Conflict, NotFound
from pipeline.jobs import Job
from pipeline.records import Message
from pipeline.stage_order import ORDER
from pipeline.stages.ticket import CLOSED, add_reply, matched_ticket, open_ticket
from pipeline.store import contacts, incoming_mails, messages, rows, tickets, tracking_events

EVIDENCE_KEY = "conversion"


@dataclass(frozen=True)
class Converted:
    """The ticket the mail is now on, and the event jobs to enqueue after commit."""

    ticket_id: int
    jobs: tuple[Job, ...] = ()


def convert_to_ticket(
    conn: Connection, org_id: UUID, message_id: int, customer_id: int
) -> Converted:
    """Open a ticket for customer ``customer_id`` from the mail.

    Raises ``NotFound`` (mail or customer) and ``Conflict`` (mail not parsed yet, or
    already a message of another ticket).
    """
    msg = _convertible(conn, org_id, message_id)
    if not rows.exists(conn, "customers", org_id, customer_id):
        raise NotFound("Customer not found", "customer_id")
    if msg.ticket_id is not None and not msg.reply_to_closed_ticket:
        ticket = tickets.get(conn, org_id, msg.ticket_id)
        if ticket is not None and ticket["source_message_id"] != msg.id:
            raise Conflict("The mail is already part of another ticket", "incoming_mail")
    opened = open_ticket(conn, msg)
    ticket_id = _ticket_of(conn, org_id, msg.id)
    tickets.set_customer(conn, org_id, ticket_id, customer_id)
    contact_id = tickets.get(conn, org_id, ticket_id)["contact_id"]
    if contact_id is not None:
        contacts.assign_customer(conn, org_id, contact_id, customer_id)
    _finish(conn, msg, {"action": "ticket", "ticket_id": ticket_id, "customer_id": customer_id})
    return Converted(ticket_id, opened.jobs)


def convert_to_reply(conn: Connection, org_id: UUID, message_id: int) -> Converted:
    """Add the mail as a reply on its ticket: the one its ``ticket_id`` names, else the one
    its thread matched (a held reply to a closed ticket, which is reopened).

    Raises ``NotFound`` when the mail or its ticket is missing.
    """
    msg = _convertible(conn, org_id, message_id)
    ticket = _reply_ticket(conn, msg)
    if ticket is None:
        raise NotFound("Ticket not found", "ticket_id")
    evidence: dict = {"via": "incoming_mails"}
    if ticket["status"] == CLOSED:
        tracking_events.track(conn, org_id, ticket["id"], "reopened", message_id=msg.id)
        evidence["reopened"] = True
    replied = add_reply(conn, msg, ticket["id"], evidence=evidence)
    _finish(conn, msg, {"action": "reply", "ticket_id": ticket["id"]})
    return Converted(ticket["id"], replied.jobs)


def _reply_ticket(conn: Connection, msg: Message) -> dict | None:
    if msg.ticket_id is not None:
        return tickets.get(conn, msg.org_id, msg.ticket_id)
    return matched_ticket(conn, msg)[0]


def _convertible(conn: Connection, org_id: UUID, message_id: int) -> Message:
    msg = incoming_mails.lock(conn, org_id, message_id)
    if msg is None:
        raise NotFound("Incoming mail not found", "incoming_mail")
    if msg.stage == ORDER[0]:
        raise Conflict("The mail has not been parsed yet; try again shortly", "incoming_mail")
    return msg


def _ticket_of(conn: Connection, org_id: UUID, message_id: int) -> int:
    """The ticket the conversion put the mail on (written by ``open_ticket``)."""
    return messages.get(conn, org_id, message_id).ticket_id


def _finish(conn: Connection, msg: Message, evidence: dict) -> None:
    """The mail is processed: no ticket pending, no closed-ticket flag, no stage left."""
    messages.update_fields(conn, msg.id, {"reply_to_closed_ticket": False})
    messages.record_stage(conn, msg.id, EVIDENCE_KEY, evidence, None, "done")
