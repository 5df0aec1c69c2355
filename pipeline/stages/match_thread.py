"""match_thread: find the ticket a mail continues, and record which evidence decided.

The rules run in this order and the first that names a ticket decides (SPEC §4.4):

1. ``reply_token``: a signed token in a recipient's plus-address (``support+12-…@``);
2. ``references``: In-Reply-To or any References id is a Message-ID Intake stored or sent;
3. ``subject_token``: ``[#<number>]`` in the subject, only from a participant of that
   ticket (a stranger quoting a ticket number must not land in someone else's ticket);
4. external ids (Zendesk, Jira, Freshdesk, the organization's ``pattern_rules``) are
   recorded under ``patterns`` but never link by themselves;
5. ``open_ticket_subject``: where ``organizations.append_open_ticket`` allows it, an open
   ticket of the same sender whose subject is the same once prefixes are stripped.

The decision lands in ``analysis["match_thread"]`` as ``{"ticket_id", "rule", "evidence",
"patterns", "rejected"}``; the ticket stage acts on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline import api_orders
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.mail import subjects
from pipeline.mail.patterns import detect_patterns
from pipeline.mail.reply_tokens import token_of, verify_token
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import policies, threads, tickets

PATTERN_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class Match:
    ticket_id: int
    rule: str
    evidence: dict[str, Any] = field(default_factory=dict)


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    previous = msg.analysis.get("match_thread")
    if msg.ticket_id is not None and previous is not None:
        return Continue(previous)  # a replayed message stays where it was put
    order = api_orders.order_of(msg)
    if order is not None:  # the client named the ticket, or none
        named = Match(order.ticket_id, "api", {}) if order.ticket_id else None
        return Continue(decision(named, [], []))
    rejected: list[dict[str, Any]] = []
    profile = ctx.org(conn, msg)
    match = find_match(conn, msg, ctx.settings.secret_key, profile.policy, rejected)
    found = detect_patterns(pattern_text(msg), profile.pattern_rules)
    return Continue(decision(match, found, rejected))


def find_match(
    conn: Connection,
    msg: Message,
    secret_key: str,
    policy: policies.TicketPolicy,
    rejected: list[dict[str, Any]],
) -> Match | None:
    """The first rule that names a ticket; refused candidates are appended to ``rejected``."""
    if msg.ticket_id is not None:  # put on a ticket by other means (the API)
        return Match(msg.ticket_id, "already_linked")
    return (
        by_reply_token(conn, msg, secret_key, rejected)
        or by_references(conn, msg)
        or by_subject_token(conn, msg, rejected)
        or (by_open_ticket_subject(conn, msg) if policy.append_open_ticket else None)
    )


def decision(
    match: Match | None, found: list[dict[str, str]], rejected: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "ticket_id": match.ticket_id if match else None,
        "rule": match.rule if match else None,
        "evidence": match.evidence if match else {},
        "patterns": found,
        "rejected": rejected,
    }


def recipients(msg: Message) -> list[str]:
    """Envelope and header recipients, each once, envelope first."""
    listed = [a["email"] for a in (*msg.to_addresses, *msg.cc_addresses)]
    return list(dict.fromkeys(a.strip().lower() for a in (*msg.envelope_to, *listed)))


def by_reply_token(
    conn: Connection, msg: Message, secret_key: str, rejected: list[dict[str, Any]]
) -> Match | None:
    for address in recipients(msg):
        token = token_of(address)
        if token is None:
            continue
        ticket_id = verify_token(secret_key, msg.org_id, token)
        if ticket_id is None:
            rejected.append({"rule": "reply_token", "address": address, "why": "bad signature"})
        elif tickets.get(conn, msg.org_id, ticket_id) is None:
            rejected.append({"rule": "reply_token", "address": address, "why": "no such ticket"})
        else:
            return Match(ticket_id, "reply_token", {"address": address})
    return None


def by_references(conn: Connection, msg: Message) -> Match | None:
    found = tickets.find_by_message_ids(conn, msg.org_id, msg.thread_ids())
    if found is None:
        return None
    return Match(found["id"], "references", {"message_id": found["matched"]})


def by_subject_token(
    conn: Connection, msg: Message, rejected: list[dict[str, Any]]
) -> Match | None:
    sender = (msg.from_address or "").lower()
    for number in subjects.ticket_numbers(msg.subject):
        ticket = threads.ticket_by_number(conn, msg.org_id, number)
        if ticket is None:
            rejected.append({"rule": "subject_token", "number": number, "why": "no such ticket"})
        elif not sender or not threads.is_participant(conn, msg.org_id, ticket["id"], sender):
            rejected.append(
                {"rule": "subject_token", "number": number, "why": "sender is not a participant"}
            )
        else:
            return Match(ticket["id"], "subject_token", {"number": number, "sender": sender})
    return None


def by_open_ticket_subject(conn: Connection, msg: Message) -> Match | None:
    key = subjects.subject_key(msg.subject)
    sender = (msg.from_address or "").lower()
    if not key or not sender:
        return None
    for ticket in threads.open_tickets_from(conn, msg.org_id, sender):
        if subjects.subject_key(ticket["subject"]) == key:
            return Match(ticket["id"], "open_ticket_subject", {"subject": key, "sender": sender})
    return None


def pattern_text(msg: Message) -> str:
    """Where external ids are looked for: the subject and the new text of the mail."""
    body = msg.new_text or msg.body_text or ""
    return f"{msg.subject or ''}\n{body[:PATTERN_TEXT_CHARS]}"
