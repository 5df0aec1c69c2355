"""ticket: apply the organization's policy to a mail: new ticket, reply, hold or discard.

Which ticket a mail continues was decided by match_thread (``analysis["match_thread"]``);
without that decision (mail converted through the API, or recorded before the stage
existed) the References lookup is done here.

- No ticket matched: ``organizations.unmatched_policy`` opens one (``create_ticket``),
  keeps the mail for manual conversion (``hold``: state ``held``, no ticket), or keeps it
  marked and out of the queue (``discard``: state ``discarded``).
- An open ticket matched: a reply. *Solved* counts as open: the customer's answer moves it
  back to ``reply``, as in Zendesk, because solved means "waiting for the customer to
  confirm". Only *closed* tickets are final.
- A closed ticket matched: ``closed_reply_policy`` reopens it (``reopen``), opens a new
  ticket linked to it (``new_ticket``) or holds the mail (``hold``); in every case
  ``messages.reply_to_closed_ticket`` is set.

``open_ticket`` and ``add_reply`` are public: held mail converted through the API goes
through them too. Both are idempotent and return their events as jobs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline import events
from pipeline.db import Connection
from pipeline.outbound.auto_reply import plan_auto_reply
from pipeline.records import Message
from pipeline.stages import Continue, Outcome, StageContext, Stop
from pipeline.stages.match_thread import thread_ids
from pipeline.stages.notify import email_data
from pipeline.store import attachments, contacts, messages, policies, tickets, webhooks

QUEUE = "pipeline"
CLOSED = "closed"
MAX_SUBJECT_CHARS = 998  # RFC 5322 line limit; longer subjects are noise or abuse


def run(conn: Connection, msg: Message, ctx: StageContext) -> Outcome:
    outcome = route(conn, msg)
    if isinstance(outcome, Continue) and outcome.evidence.get("action") == "created":
        ticket_id = outcome.evidence["ticket_id"]
        jobs = plan_auto_reply(conn, msg, ticket_id, ctx)
        return replace(outcome, jobs=outcome.jobs + jobs)
    return outcome


def route(conn: Connection, msg: Message) -> Outcome:
    """Apply the policies to ``msg`` and return what became of it."""
    if msg.ticket_id is not None:
        return Continue({"action": "already_linked", "ticket_id": msg.ticket_id})
    policy = policies.ticket_policy(conn, msg.org_id)
    ticket, evidence = matched_ticket(conn, msg)
    if ticket is None:
        return on_unmatched(conn, msg, policy)
    if ticket["status"] == CLOSED:
        return on_closed_reply(conn, msg, ticket, policy, evidence)
    return add_reply(conn, msg, ticket["id"], evidence)


def matched_ticket(conn: Connection, msg: Message) -> tuple[dict[str, Any] | None, dict]:
    """The ticket match_thread chose (or References point at) and the evidence for it."""
    decision = msg.analysis.get("match_thread")
    if decision is None:
        found = tickets.find_by_message_ids(conn, msg.org_id, thread_ids(msg))
        ticket_id = found["id"] if found else None
        evidence = (
            {"rule": "references", "evidence": {"message_id": found["matched"]}} if found else {}
        )
    else:
        ticket_id = decision.get("ticket_id")
        evidence = {"rule": decision.get("rule"), "evidence": decision.get("evidence", {})}
    ticket = tickets.get(conn, msg.org_id, ticket_id) if ticket_id else None
    return ticket, evidence


def on_unmatched(conn: Connection, msg: Message, policy: policies.TicketPolicy) -> Outcome:
    if policy.unmatched_policy == "hold":
        return Stop("held", "unmatched", {"policy": "hold"})
    if policy.unmatched_policy == "discard":
        return Stop("discarded", "unmatched", {"policy": "discard"})
    return open_ticket(conn, msg)


def on_closed_reply(
    conn: Connection,
    msg: Message,
    ticket: dict[str, Any],
    policy: policies.TicketPolicy,
    evidence: dict[str, Any],
) -> Outcome:
    messages.update_fields(conn, msg.id, {"reply_to_closed_ticket": True})
    closed = {"closed_ticket_id": ticket["id"], "policy": policy.closed_reply_policy}
    if policy.closed_reply_policy == "hold":
        return Stop("held", "reply_to_closed_ticket", {**closed, **evidence})
    if policy.closed_reply_policy == "new_ticket":
        return open_ticket(conn, msg, linked_ticket_id=ticket["id"], evidence=closed)
    tickets.track(conn, msg.org_id, ticket["id"], "reopened", message_id=msg.id)
    return add_reply(conn, msg, ticket["id"], {**evidence, **closed, "reopened": True})


def open_ticket(
    conn: Connection,
    msg: Message,
    *,
    customer_id: int | None = None,
    linked_ticket_id: int | None = None,
    evidence: dict[str, Any] | None = None,
) -> Continue:
    """Open a ticket from ``msg`` (once: a second call finds the first ticket)."""
    contact_id = _contact(conn, msg)
    ticket_id = tickets.id_for_source(conn, msg.id)
    if ticket_id is None:
        ticket_id = tickets.create(
            conn,
            msg.org_id,
            subject=clean_subject(msg.subject),
            contact_id=contact_id,
            mailbox_id=msg.mailbox_id,
            source_message_id=msg.id,
            customer_id=customer_id,
        ) or tickets.id_for_source(conn, msg.id)
        tickets.track(conn, msg.org_id, ticket_id, "created", message_id=msg.id)
    if linked_ticket_id is not None:
        tickets.link(conn, msg.org_id, ticket_id, linked_ticket_id)
    _link(conn, msg, ticket_id, contact_id)
    jobs = _raise(conn, msg, ticket_id, "ticket.created", f"ticket.created:{ticket_id}")
    result = {"action": "created", "ticket_id": ticket_id, **(evidence or {})}
    if linked_ticket_id is not None:
        result["linked_ticket_id"] = linked_ticket_id
    return Continue(result, jobs)


def add_reply(conn: Connection, msg: Message, ticket_id: int, evidence: dict) -> Continue:
    """Put ``msg`` on ticket ``ticket_id`` as the customer's reply (counted once)."""
    contact_id = _contact(conn, msg)
    if _link(conn, msg, ticket_id, contact_id):
        tickets.record_reply(conn, ticket_id)
        tickets.track(conn, msg.org_id, ticket_id, "replied", message_id=msg.id)
    jobs = _raise(conn, msg, ticket_id, "ticket.replied", f"ticket.replied:{msg.id}")
    return Continue({"action": "replied", "ticket_id": ticket_id, **evidence}, jobs)


def clean_subject(subject: str | None) -> str:
    """The ticket's subject: printable, one line, bounded; ``(no subject)`` when empty."""
    text = "".join(ch if ch.isprintable() else " " for ch in subject or "")
    return " ".join(text.split())[:MAX_SUBJECT_CHARS] or "(no subject)"


def labels_of(msg: Message) -> list[str]:
    """The labels categorize picked for this mail."""
    return list((msg.analysis.get("categorize") or {}).get("labels") or [])


def _contact(conn: Connection, msg: Message) -> int | None:
    sender = msg.from_address or msg.reply_to or msg.envelope_from
    if not sender:
        return None
    return contacts.find_or_create(conn, msg.org_id, sender, msg.from_name)


def _link(conn: Connection, msg: Message, ticket_id: int, contact_id: int | None) -> bool:
    """Put the mail on the ticket with its labels; ``False`` if it was already there."""
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
    tickets.add_labels(conn, ticket_id, labels_of(msg))
    if ticket_message_id is None:
        return False
    attachments.move_to_ticket(conn, msg.id, ticket_id, ticket_message_id)
    return True


def _raise(conn: Connection, msg: Message, ticket_id: int, event: str, key: str):
    """Raise ``event`` for the ticket here rather than in notify, so that held mail converted
    through the API raises it too; same key and payload as notify, so it is raised once."""
    if event not in webhooks.subscribed_events(conn, msg.org_id):
        return ()
    ticket = tickets.detail(conn, msg.org_id, ticket_id)
    data = {
        "ticket_id": ticket_id,
        "number": ticket["number"],
        "status": ticket["status"],
        "subject": ticket["subject"],
        "exchange_count": ticket["exchange_count"],
        "labels": ticket["labels"],
        "contact_email": ticket["contact_email"],
        "email": email_data(replace(msg, ticket_id=ticket_id)),
    }
    return events.emit(conn, msg.org_id, event, key, data)
