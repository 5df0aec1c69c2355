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

- Mail an API client inserted (``insertTicket``): the client's order decides (a new
  ticket, the ticket it named, or a private note), then its labels, agents and status.

When a ticket was opened (and an API client's order did not turn it off), the auto-reply
step follows (``pipeline.outbound.auto_reply.plan``); it keeps its own evidence, the
decision, as ``analysis.auto_reply``.

``open_ticket`` and ``add_reply`` are public: held mail converted through the API goes
through them too. Both are idempotent and return their events as jobs. The stage itself
uses ``opened`` and ``replied``, which leave the message row to the run's one UPDATE.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pipeline import api_orders, event_payloads, events
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.errors import PermanentError
from pipeline.jobs import Job
from pipeline.outbound import auto_reply
from pipeline.outcomes import Continue, Outcome, Stop, followed_by
from pipeline.records import Message
from pipeline.store import messages, policies, ticket_mail, tickets, tracking_events, webhooks

CLOSED = "closed"
MAX_SUBJECT_CHARS = 998  # RFC 5322 line limit; longer subjects are noise or abuse

Events = set[str] | frozenset[str]


def run(conn: Connection, msg: Message, ctx: StageContext) -> Outcome:
    profile = ctx.org(conn, msg)
    order = api_orders.order_of(msg)
    if order is not None:
        outcome = ordered(conn, msg, order, profile.subscribed_events)
    else:
        outcome = route(conn, msg, profile.policy, profile.subscribed_events)
    if opened_ticket(outcome) and (order is None or order.auto_reply):
        step = auto_reply.plan(conn, msg, outcome.evidence["ticket_id"], ctx)
        return followed_by(outcome, step)
    return outcome


def opened_ticket(outcome: Outcome) -> bool:
    """Whether ``outcome`` opened a new ticket (the one mail an auto-reply may answer)."""
    return isinstance(outcome, Continue) and outcome.evidence.get("action") == "created"


def route(
    conn: Connection,
    msg: Message,
    policy: policies.TicketPolicy | None = None,
    wanted: Events | None = None,
) -> Outcome:
    """Apply the policies to ``msg`` and return what became of it (the policy and the
    subscribed event types are read here unless the caller has them)."""
    policy = policy or policies.ticket_policy(conn, msg.org_id)
    if msg.ticket_id is not None:
        return Continue({"action": "already_linked", "ticket_id": msg.ticket_id})
    ticket, evidence = matched_ticket(conn, msg)
    if ticket is None:
        return on_unmatched(conn, msg, policy, wanted)
    if ticket["status"] == CLOSED:
        return on_closed_reply(conn, msg, ticket, policy, evidence, wanted)
    return replied(conn, msg, ticket["id"], evidence, wanted=wanted)


def ordered(conn: Connection, msg: Message, order: api_orders.Order, wanted: Events) -> Continue:
    """Place mail an API client inserted as its order says, then apply the order's actions."""
    if msg.ticket_id is not None:
        return Continue({"action": "already_linked", "ticket_id": msg.ticket_id, "via": "api"})
    if order.message_type == "internal":
        outcome = api_orders.add_note(conn, msg, order.ticket_id, order.agent_id)
    elif order.ticket_id is not None:
        outcome = replied(conn, msg, order.ticket_id, {"via": "api"}, wanted=wanted)
    else:
        outcome = opened(conn, msg, evidence={"via": "api"}, wanted=wanted)
    api_orders.apply_actions(conn, msg.org_id, outcome.evidence["ticket_id"], order)
    return outcome


def matched_ticket(conn: Connection, msg: Message) -> tuple[dict[str, Any] | None, dict]:
    """The ticket match_thread chose (or References point at) and the evidence for it."""
    decision = msg.analysis.get("match_thread")
    if decision is None:
        found = tickets.find_by_message_ids(conn, msg.org_id, msg.thread_ids())
        ticket_id = found["id"] if found else None
        evidence = (
            {"rule": "references", "evidence": {"message_id": found["matched"]}} if found else {}
        )
    else:
        ticket_id = decision.get("ticket_id")
        evidence = {"rule": decision.get("rule"), "evidence": decision.get("evidence", {})}
    ticket = tickets.get(conn, msg.org_id, ticket_id) if ticket_id else None
    return ticket, evidence


def on_unmatched(
    conn: Connection, msg: Message, policy: policies.TicketPolicy, wanted: Events | None
) -> Outcome:
    if policy.unmatched_policy == "hold":
        return Stop("held", "unmatched", {"policy": "hold"})
    if policy.unmatched_policy == "discard":
        return Stop("discarded", "unmatched", {"policy": "discard"})
    return opened(conn, msg, wanted=wanted)


def on_closed_reply(
    conn: Connection,
    msg: Message,
    ticket: dict[str, Any],
    policy: policies.TicketPolicy,
    evidence: dict[str, Any],
    wanted: Events | None,
) -> Outcome:
    flag = {"reply_to_closed_ticket": True}
    msg = replace(msg, **flag)
    closed = {"closed_ticket_id": ticket["id"], "policy": policy.closed_reply_policy}
    if policy.closed_reply_policy == "hold":
        return Stop("held", "reply_to_closed_ticket", {**closed, **evidence}, changes=flag)
    if policy.closed_reply_policy == "new_ticket":
        outcome = opened(conn, msg, linked_ticket_id=ticket["id"], evidence=closed, wanted=wanted)
    else:
        tracking_events.track(conn, msg.org_id, ticket["id"], "reopened", message_id=msg.id)
        reopened = {**evidence, **closed, "reopened": True}
        outcome = replied(conn, msg, ticket["id"], reopened, wanted=wanted)
    return replace(outcome, changes={**flag, **outcome.changes})


def open_ticket(conn: Connection, msg: Message, **options: Any) -> Continue:
    """Open a ticket from ``msg`` and put the mail on it (see ``opened``)."""
    return _written(conn, msg, opened(conn, msg, **options))


def add_reply(conn: Connection, msg: Message, ticket_id: int, evidence: dict) -> Continue:
    """Put ``msg`` on ticket ``ticket_id`` as the customer's reply (see ``replied``)."""
    return _written(conn, msg, replied(conn, msg, ticket_id, evidence))


def _written(conn: Connection, msg: Message, outcome: Continue) -> Continue:
    """Write the outcome's changes to the message at once (callers outside a stage run)."""
    messages.update_fields(conn, msg.id, outcome.changes)
    return outcome


def opened(
    conn: Connection,
    msg: Message,
    *,
    customer_id: int | None = None,
    linked_ticket_id: int | None = None,
    evidence: dict[str, Any] | None = None,
    wanted: Events | None = None,
) -> Continue:
    """Open a ticket from ``msg`` (once: a second call finds the first ticket).

    The message's new ``ticket_id`` is returned in ``changes`` for the stage run to write;
    ``wanted`` (the event types someone subscribed to) saves a query when known."""
    ticket_id = ticket_mail.open_from(
        conn,
        msg,
        subject=clean_subject(msg.subject),
        sender=sender_of(msg),
        labels=labels_of(msg),
        customer_id=customer_id,
    )
    if linked_ticket_id is not None:
        tickets.link(conn, msg.org_id, ticket_id, linked_ticket_id)
    key = f"ticket.created:{ticket_id}"
    jobs = _raise(conn, msg, ticket_id, "ticket.created", key, wanted)
    result = {"action": "created", "ticket_id": ticket_id, **(evidence or {})}
    if linked_ticket_id is not None:
        result["linked_ticket_id"] = linked_ticket_id
    return Continue(result, jobs, changes={"ticket_id": ticket_id})


def replied(
    conn: Connection,
    msg: Message,
    ticket_id: int,
    evidence: dict,
    *,
    wanted: Events | None = None,
) -> Continue:
    """Put ``msg`` on ticket ``ticket_id`` as the customer's reply (counted once); the
    message's ``ticket_id`` is returned in ``changes``, as with ``opened``."""
    if not ticket_mail.reply_to(conn, msg, ticket_id, sender=sender_of(msg), labels=labels_of(msg)):
        raise PermanentError(f"ticket {ticket_id} not found in the organization")
    jobs = _raise(conn, msg, ticket_id, "ticket.replied", f"ticket.replied:{msg.id}", wanted)
    evidence = {"action": "replied", "ticket_id": ticket_id, **evidence}
    return Continue(evidence, jobs, changes={"ticket_id": ticket_id})


def clean_subject(subject: str | None) -> str:
    """The ticket's subject: printable, one line, bounded; ``(no subject)`` when empty."""
    text = "".join(ch if ch.isprintable() else " " for ch in subject or "")
    return " ".join(text.split())[:MAX_SUBJECT_CHARS] or "(no subject)"


def labels_of(msg: Message) -> list[str]:
    """The labels categorize picked for this mail."""
    return list((msg.analysis.get("categorize") or {}).get("labels") or [])


def sender_of(msg: Message) -> str | None:
    """The address the mail's contact is found or created by."""
    return msg.from_address or msg.reply_to or msg.envelope_from or None


def _raise(
    conn: Connection,
    msg: Message,
    ticket_id: int,
    event: str,
    key: str,
    wanted: Events | None,
) -> tuple[Job, ...]:
    """Raise ``event`` for the ticket here rather than in notify, so that held mail converted
    through the API raises it too; same key and payload as notify, so it is raised once."""
    if wanted is None:
        wanted = webhooks.subscribed_events(conn, msg.org_id)
    if event not in wanted:
        return ()
    data = event_payloads.ticket(tickets.detail(conn, msg.org_id, ticket_id), msg)
    return events.emit(conn, msg.org_id, event, key, data)
