"""Tickets created or appended to by an API client (``003_…`` ``insertTicket``).

The mail goes through the one door (``accept_raw``, channel ``api``) and is parsed in
the same transaction; the ticket is then opened or appended to at once with the ticket
stage's own steps. Mail Flow (filter, thread matching, categorize) is bypassed, as the
seed documents: the client states labels, agents and status itself. The message then
waits only for ``notify`` (when that stage exists), so subscribers hear of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from pipeline import fetch
from pipeline.db import Connection
from pipeline.errors import InputError, NotFound
from pipeline.intake import accept_raw
from pipeline.mail.compose import compose
from pipeline.records import Envelope, Mailbox, Message
from pipeline.runner import run_inline
from pipeline.stages import ORDER, StageContext
from pipeline.stages.ticket import add_reply, open_ticket
from pipeline.store import attachments, contacts, mailboxes, messages, ticket_actions, tickets

MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024
FINAL_STAGE = "notify"
EVIDENCE_KEY = "api"


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


@dataclass(frozen=True)
class Inserted:
    ticket_id: int
    message_id: int
    next_stage: str | None
    evidence: dict = field(default_factory=dict)


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
) -> Inserted:
    """Store the mail, then open or append to the ticket; raises ``InputError`` / ``NotFound``."""
    mailbox = _mailbox(conn, org_id, req.to_email)
    agent_ids = _agents(conn, org_id, req.assign_agents)
    target = _target(conn, org_id, req, mailbox)
    raw = compose(
        from_email=req.from_email,
        from_name=req.from_name,
        to_email=req.to_email,
        subject=req.subject,
        body=req.message,
        attachments=files,
        message_id_domain=ctx.settings.message_id_domain,
    )
    message_id = accept_raw(conn, raw, Envelope(req.from_email, (req.to_email,)), "api", mailbox)
    run_inline(conn, ORDER[0], message_id, ctx)
    msg = messages.get(conn, org_id, message_id)
    ticket_id = _place(conn, msg, target, req)
    _apply_actions(conn, org_id, ticket_id, req, agent_ids)
    evidence = {
        "action": "appended" if target else "created",
        "ticket_id": ticket_id,
        "agent_id": req.agent_id,
        "auto_reply": req.auto_reply,
        "message_type": req.message_type,
        "bypassed": [s for s in ORDER if s not in (ORDER[0], FINAL_STAGE)],
    }
    following = FINAL_STAGE if FINAL_STAGE in ORDER else None
    messages.record_stage(
        conn, message_id, EVIDENCE_KEY, evidence, following, "processing" if following else "done"
    )
    return Inserted(ticket_id, message_id, following, evidence)


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
        return ticket_actions.find_open_by_sender(conn, org_id, mailbox.id, req.from_email)
    return None


def _place(conn: Connection, msg: Message, target: int | None, req: TicketRequest) -> int:
    if req.message_type == "internal":
        return _add_note(conn, msg, target, req.agent_id)
    if target is not None:
        add_reply(conn, msg, target, evidence={"via": "api"})
        return target
    open_ticket(conn, msg)
    return messages.get(conn, msg.org_id, msg.id).ticket_id


def _add_note(conn: Connection, msg: Message, target: int | None, agent_id: int) -> int:
    """A private note by the acting agent, on ``target`` or on a new ticket for the sender."""
    contact_id = contacts.find_or_create(conn, msg.org_id, msg.from_address, msg.from_name)
    ticket_id = target or tickets.create(
        conn,
        msg.org_id,
        subject=msg.subject or "(no subject)",
        contact_id=contact_id,
        mailbox_id=msg.mailbox_id,
        source_message_id=msg.id,
    )
    note_id = tickets.add_message(
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
    ticket_actions.set_message_agent(conn, msg.org_id, note_id, agent_id)
    attachments.move_to_ticket(conn, msg.id, ticket_id, note_id)
    messages.update_fields(conn, msg.id, {"ticket_id": ticket_id})
    tickets.track(
        conn, msg.org_id, ticket_id, "note", message_id=msg.id, data={"agent_id": agent_id}
    )
    return ticket_id


def _apply_actions(
    conn: Connection, org_id: UUID, ticket_id: int, req: TicketRequest, agent_ids: list[int]
) -> None:
    if req.labels:
        ticket_actions.add_labels(conn, org_id, ticket_id, list(req.labels))
    if agent_ids:
        ticket_actions.assign_agents(conn, org_id, ticket_id, agent_ids)
    if req.status:
        ticket_actions.set_status(conn, org_id, ticket_id, req.status)
    for kind, value in (("labelled", req.labels), ("assigned", agent_ids), ("status", req.status)):
        if value:
            tickets.track(
                conn, org_id, ticket_id, kind, data={"value": value, "agent_id": req.agent_id}
            )
