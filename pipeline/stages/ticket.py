"""ticket: open a ticket for new mail, or add a reply to the ticket it answers."""

from __future__ import annotations

from pipeline.db import Connection
from pipeline.outbound.auto_reply import plan_auto_reply
from pipeline.records import Message
from pipeline.stages import Continue, StageContext
from pipeline.store import attachments, contacts, messages, tickets

QUEUE = "pipeline"


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    if msg.ticket_id is not None:
        return Continue({"action": "already_linked", "ticket_id": msg.ticket_id})
    match = tickets.find_by_message_ids(conn, msg.org_id, thread_ids(msg))
    if match is not None:
        return add_reply(conn, msg, match["id"], evidence={"matched": match["matched"]})
    return open_ticket(conn, msg, ctx)


def thread_ids(msg: Message) -> list[str]:
    """The Message-IDs this mail answers, nearest first (In-Reply-To, then References)."""
    ids = [msg.in_reply_to] if msg.in_reply_to else []
    return ids + [ref for ref in reversed(msg.references) if ref not in ids]


def open_ticket(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    contact_id = _contact(conn, msg)
    ticket_id = tickets.create(
        conn,
        msg.org_id,
        subject=(msg.subject or "").strip() or "(no subject)",
        contact_id=contact_id,
        mailbox_id=msg.mailbox_id,
        source_message_id=msg.id,
    )
    if ticket_id is None:  # created by an earlier run of this stage
        ticket_id = conn.execute(
            "SELECT id FROM tickets WHERE source_message_id = %s", (msg.id,)
        ).fetchone()["id"]
    _link(conn, msg, ticket_id, contact_id)
    tickets.track(conn, msg.org_id, ticket_id, "created", message_id=msg.id)
    jobs = plan_auto_reply(conn, msg, ticket_id, ctx)
    return Continue({"action": "created", "ticket_id": ticket_id}, jobs=jobs)


def add_reply(conn: Connection, msg: Message, ticket_id: int, evidence: dict) -> Continue:
    contact_id = _contact(conn, msg)
    if _link(conn, msg, ticket_id, contact_id):
        tickets.record_reply(conn, ticket_id)
        tickets.track(conn, msg.org_id, ticket_id, "replied", message_id=msg.id)
    return Continue({"action": "replied", "ticket_id": ticket_id, **evidence})


def _contact(conn: Connection, msg: Message) -> int | None:
    sender = msg.from_address or msg.reply_to or msg.envelope_from
    if not sender:
        return None
    return contacts.find_or_create(conn, msg.org_id, sender, msg.from_name)


def _link(conn: Connection, msg: Message, ticket_id: int, contact_id: int | None) -> bool:
    """Put the mail on the ticket; ``False`` if it was already there."""
    ticket_message_id = tickets.add_message(
        conn,
        msg.org_id,
        ticket_id,
        contact_id=contact_id,
        from_address=msg.from_address,
        from_name=msg.from_name,
        body_text=msg.new_text or msg.body_text or "",
        body_html=msg.body_html,
        message_id=msg.id,
    )
    messages.update_fields(conn, msg.id, {"ticket_id": ticket_id})
    if ticket_message_id is None:
        return False
    attachments.move_to_ticket(conn, msg.id, ticket_id, ticket_message_id)
    return True
