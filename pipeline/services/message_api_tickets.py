"""Tickets created or appended to by an API client (``003_…`` ``insertTicket``).

The mail goes through the one door (``accept_raw``, channel ``api``) with the client's
order kept in ``analysis.api`` (target ticket, note or mail, labels, agents, status,
auto-reply), and then through every stage like any other mail (``run_through``). The
stages read the order: Mail Flow (filter, voicemail and categorize rules) is bypassed,
as the seed documents, match_thread takes the ticket the client named, and the ticket
stage places the mail, applies the client's actions and, when a ticket was opened and
``autoReply`` is on, plans the auto-reply through the same path as every channel (how
the stages read the order: ``pipeline.api_orders``). What the client names is checked
before anything is stored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from uuid import UUID

from pipeline import fetch
from pipeline.api_orders import ORDER_KEY, Order
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.errors import InputError, NotFound
from pipeline.intake import accept_raw
from pipeline.mail.compose import compose_api_ticket_mail
from pipeline.records import Envelope, Mailbox
from pipeline.store import contacts, mailboxes, messages, ticket_queries, tickets

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class TicketRequest:
    from_email: str
    message: str
    subject: str
    to_email: str
    agent_id: int
    from_name: str | None = None
    append_open_ticket: bool = True
    attachment_urls: tuple[str, ...] = ()
    assign_agents: tuple[str, ...] = ()
    auto_reply: bool = True
    labels: tuple[str, ...] = ()
    message_type: str = "external"
    status: str | None = None
    ticket_id: int | None = None


def fetch_attachments(
    urls: tuple[str, ...], allow_private: bool, deadline: fetch.Deadline | None = None
) -> list[fetch.Fetched]:
    """Download ``urls`` under the SSRF guard and one deadline; raises ``InputError`` 413
    over 50 MB in total."""
    fetched, budget, deadline = [], MAX_ATTACHMENT_BYTES, deadline or fetch.Deadline()
    for url in urls:
        try:
            item = fetch.fetch(
                url,
                max_bytes=budget,
                allow_private=allow_private,
                field="attachments",
                deadline=deadline,
            )
        except InputError as exc:
            if exc.status == 413:
                raise InputError("attachments exceed 50 MB in total", "attachments", 413) from None
            raise
        budget -= len(item.data)
        fetched.append(item)
    return fetched


def insert_ticket(
    conn: Connection,
    org_id: UUID,
    req: TicketRequest,
    files: list[fetch.Fetched],
    ctx: StageContext,
) -> int:
    """Check the request and store the mail with its order (the caller commits, then runs
    it through); return the message id. Raises ``InputError`` / ``NotFound``."""
    mailbox = _mailbox(conn, org_id, req.to_email)
    agent_ids = _agents(conn, org_id, req.assign_agents)
    target = _target(conn, org_id, req, mailbox)
    raw = compose_api_ticket_mail(
        from_email=req.from_email,
        from_name=req.from_name,
        to_email=req.to_email,
        subject=req.subject,
        body=req.message,
        attachments=files,
        message_id_domain=ctx.settings.message_id_domain,
    )
    message_id = accept_raw(conn, raw, Envelope(req.from_email, (req.to_email,)), "api", mailbox)
    order = Order(
        ticket_id=target,
        message_type=req.message_type,
        agent_id=req.agent_id,
        agent_ids=tuple(agent_ids),
        labels=req.labels,
        status=req.status,
        auto_reply=req.auto_reply,
    )
    messages.update_fields(conn, message_id, {"analysis": {ORDER_KEY: asdict(order)}})
    return message_id


def ticket_of(conn: Connection, org_id: UUID, message_id: int) -> int | None:
    """The ticket the inserted mail is on (``None`` until the stages have run)."""
    msg = messages.get(conn, org_id, message_id)
    return msg.ticket_id if msg is not None else None


def _mailbox(conn: Connection, org_id: UUID, address: str) -> Mailbox:
    mailbox = mailboxes.find_by_address(conn, address)
    if mailbox is None or mailbox.org_id != org_id:
        raise InputError("toEmail is not one of this account's mailbox addresses", "toEmail", 422)
    return mailbox


def _agents(conn: Connection, org_id: UUID, emails: tuple[str, ...]) -> list[int]:
    if not emails:
        return []
    found = contacts.agents_by_email(conn, org_id, list(emails))
    known = {a["email"].lower() for a in found}
    unknown = [e for e in emails if e.strip().lower() not in known]
    if unknown:
        raise InputError(f"unknown agent: {', '.join(unknown)}", "assignAgents", 422)
    return [a["id"] for a in found]


def _target(conn: Connection, org_id: UUID, req: TicketRequest, mailbox: Mailbox) -> int | None:
    """The ticket to append to: the one named, else the sender's open one if wanted."""
    if req.ticket_id is not None:
        if tickets.get(conn, org_id, req.ticket_id) is None:
            raise NotFound("Ticket not found", "ticketId")
        return req.ticket_id
    if req.append_open_ticket:
        return ticket_queries.find_open_by_sender(conn, org_id, mailbox.id, req.from_email)
    return None
