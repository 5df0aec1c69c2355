"""Manual conversion of held mail (``000_…``): into a new ticket, or into a reply.

Both reuse the ticket stage's own steps (``open_ticket`` / ``add_reply``), so a converted
mail ends exactly like one the pipeline placed: contact found or created, attachments
moved, exchange counted, pending closure cancelled, tracking event recorded. Both are
idempotent: the second call finds the ticket message already there and adds nothing.
"""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection
from pipeline.errors import Conflict, NotFound
from pipeline.records import Message
from pipeline.stages import ORDER
from pipeline.stages.ticket import add_reply, open_ticket
from pipeline.store import contacts, incoming_mails, messages, ticket_actions, tickets

EVIDENCE_KEY = "conversion"


def convert_to_ticket(conn: Connection, org_id: UUID, message_id: int, customer_id: int) -> int:
    """Open a ticket for customer ``customer_id`` from the mail; return the ticket id.

    Raises ``NotFound`` (mail or customer) and ``Conflict`` (mail not parsed yet, or
    already a message of another ticket).
    """
    msg = _convertible(conn, org_id, message_id)
    if not contacts.customer_exists(conn, org_id, customer_id):
        raise NotFound("Customer not found", "customer_id")
    if msg.ticket_id is not None and not msg.reply_to_closed_ticket:
        ticket = tickets.get(conn, org_id, msg.ticket_id)
        if ticket is not None and ticket["source_message_id"] != msg.id:
            raise Conflict("The mail is already part of another ticket", "incoming_mail")
    open_ticket(conn, msg)
    ticket_id = _ticket_of(conn, org_id, msg.id)
    ticket_actions.set_customer(conn, org_id, ticket_id, customer_id)
    contact_id = tickets.get(conn, org_id, ticket_id)["contact_id"]
    if contact_id is not None:
        contacts.assign_customer(conn, org_id, contact_id, customer_id)
    _finish(conn, msg, {"action": "ticket", "ticket_id": ticket_id, "customer_id": customer_id})
    return ticket_id


def convert_to_reply(conn: Connection, org_id: UUID, message_id: int) -> int:
    """Add the mail as a reply on the ticket its ``ticket_id`` names; return the ticket id.

    Raises ``NotFound`` when the mail or its ticket is missing.
    """
    msg = _convertible(conn, org_id, message_id)
    if msg.ticket_id is None or tickets.get(conn, org_id, msg.ticket_id) is None:
        raise NotFound("Ticket not found", "ticket_id")
    add_reply(conn, msg, msg.ticket_id, evidence={"via": "incoming_mails"})
    _finish(conn, msg, {"action": "reply", "ticket_id": msg.ticket_id})
    return msg.ticket_id


def _convertible(conn: Connection, org_id: UUID, message_id: int) -> Message:
    msg = incoming_mails.lock(conn, org_id, message_id)
    if msg is None:
        raise NotFound("Incoming mail not found", "incoming_mail")
    if msg.stage == ORDER[0]:
        raise Conflict("The mail has not been parsed yet; try again shortly", "incoming_mail")
    return msg


def _ticket_of(conn: Connection, org_id: UUID, message_id: int) -> int:
    return conn.execute(
        "SELECT ticket_id FROM messages WHERE org_id = %s AND id = %s", (org_id, message_id)
    ).fetchone()["ticket_id"]


def _finish(conn: Connection, msg: Message, evidence: dict) -> None:
    """The mail is processed: no ticket pending, no closed-ticket flag, no stage left."""
    messages.update_fields(conn, msg.id, {"reply_to_closed_ticket": False})
    messages.record_stage(conn, msg.id, EVIDENCE_KEY, evidence, None, "done")
