"""filter: keep machine mail and unwanted mail out of the ticket queue, with evidence.

In order: reports (a DSN or an abuse complaint becomes delivery events on the sent mail
it concerns), then the organization's excluded senders and ignored subjects, then
auto-replies and loops (``pipeline.mail.autoreply``), then the flood guard. Filtered mail stays listed with the
reason in ``analysis.filter``; it never reaches the ticket stage, so it never opens a
ticket or triggers an auto-reply. A flood is ``held`` so an operator can still convert it.
"""

from __future__ import annotations

from pipeline import api_orders
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.mail import autoreply, bounces, exclusions, mime, part_cap
from pipeline.outcomes import Continue, Stop
from pipeline.records import Message
from pipeline.store import blobs, deliveries
from pipeline.store.filter_lists import FilterRules


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue | Stop:
    if (bypass := api_orders.bypassed(msg)) is not None:
        return bypass
    report = check_report(conn, msg, ctx.settings.max_mime_parts)
    if report is not None:
        return report
    org_rules = ctx.org(conn, msg).filter_rules
    hits = rule_hits(msg, org_rules) + [
        {"rule": s.rule, **s.evidence}
        for s in autoreply.signals(facts_of(msg), ctx.settings.message_id_domain)
    ]
    if hits:
        bounce = check_text_bounce(conn, msg, hits, ctx.settings.message_id_domain)
        return bounce or Stop("filtered", hits[0]["rule"], {"verdict": "filtered", "hits": hits})
    return check_flood(msg, org_rules)


def facts_of(msg: Message) -> autoreply.MailFacts:
    return autoreply.MailFacts(
        headers=autoreply.header_map(msg.headers),
        subject=msg.subject or "",
        from_address=msg.from_address,
        envelope_from=msg.envelope_from,
        message_id=msg.message_id,
    )


def senders_of(msg: Message) -> list[str]:
    """The From address (the envelope sender only when there is none), as helpdesk users
    see the sender; matching envelope senders would catch every mail an ESP relays."""
    sender = msg.from_address or (msg.envelope_from or "").strip("<>")
    return [sender] if sender else []


def rule_hits(msg: Message, org_rules: FilterRules) -> list[dict]:
    """Hits of the organization's excluded senders and ignored subjects."""
    hits = []
    excluded = exclusions.excluded_sender(senders_of(msg), org_rules.excluded_emails)
    if excluded is not None:
        hits.append({"rule": "excluded_sender", "address": excluded[0], "pattern": excluded[1]})
    ignored = exclusions.ignored_subject(msg.subject or "", org_rules.ignored_subjects)
    if ignored is not None:
        hits.append(
            {"rule": "ignored_subject", "subject": (msg.subject or "")[:300], "pattern": ignored}
        )
    return hits


def check_report(conn: Connection, msg: Message, max_parts: int) -> Stop | None:
    """A ``multipart/report``: a DSN becomes delivery events, an abuse report (RFC 5965
    ``feedback-report``) a ``complained`` event; other reports (read receipts) are
    filtered as they are. The report is read within the same part cap as the parse."""
    kind = bounces.report_type(msg.header("Content-Type"))
    if kind is None:
        return None
    if kind not in {"delivery-status", "feedback-report", ""}:
        return Stop("filtered", "report", {"verdict": "filtered", "report_type": kind})
    capped = part_cap.cap_parts(blobs.get(conn, msg.raw_sha256), max_parts)
    report, _ = mime.read_message(capped.raw)
    evidence = {"verdict": "filtered"} | ({"mime_parts_capped": True} if capped.parts_found else {})
    if kind == "feedback-report":
        complaint = record_complaint(conn, msg, bounces.original_message_id(report))
        return Stop("filtered", "complaint", {**evidence, **complaint})
    recorded = [
        record_bounce(
            conn,
            msg,
            str(i),
            r,
            {"action": r.action, "reporting_mta": r.reporting_mta},
            recipient=r.recipient,
        )
        for i, r in enumerate(bounces.parse_report(report))
    ]
    return Stop("filtered", "bounce", {**evidence, "report_type": kind, "recipients": recorded})


def record_complaint(conn: Connection, msg: Message, original: str | None) -> dict:
    event = deliveries.DeliveryEvent(
        event="complained",
        provider="arf",
        provider_event_id=f"{msg.id}:0",
        message_id=original,
        recipient=msg.from_address,
        occurred_at=msg.sent_at,
        source_message_id=msg.id,
    )
    event_id = deliveries.record(conn, msg.org_id, event)
    return {
        "report_type": "feedback-report",
        "original_message_id": original,
        "delivery_event_id": event_id,
    }


def check_text_bounce(conn: Connection, msg: Message, hits: list[dict], domain: str) -> Stop | None:
    """A bounce daemon's free-form report quoting one of our Message-IDs still becomes a
    delivery event on that sent mail."""
    if not {"daemon_sender", "null_sender"} & {hit["rule"] for hit in hits}:
        return None
    found = bounces.find_text_bounce(blobs.get(conn, msg.raw_sha256), domain)
    if found is None:
        return None
    recorded = record_bounce(conn, msg, "text", found, {"format": "text"})
    evidence = {"verdict": "filtered", "format": "text", "recipients": [recorded], "hits": hits}
    return Stop("filtered", "bounce", evidence)


def record_bounce(
    conn: Connection,
    msg: Message,
    key: str,
    bounce: bounces.DsnRecipient | bounces.TextBounce,
    payload: dict,
    *,
    recipient: str | None = None,
) -> dict:
    """Record what a bounce (a DSN recipient or a free-form report) says about our sent
    mail as a delivery event keyed by this message and ``key``; return it as evidence."""
    event = deliveries.DeliveryEvent(
        event=bounce.event,
        provider="dsn",
        provider_event_id=f"{msg.id}:{key}",
        message_id=bounce.original_message_id,
        recipient=recipient,
        status_code=bounce.status,
        diagnostic=bounce.diagnostic,
        occurred_at=msg.sent_at,
        payload=payload,
        source_message_id=msg.id,
    )
    event_id = deliveries.record(conn, msg.org_id, event)
    return {**vars(bounce), "event": bounce.event, "delivery_event_id": event_id}


def check_flood(msg: Message, org_rules: FilterRules) -> Continue | Stop:
    """Hold the mail when its sender already sent ``flood_limit`` in the window."""
    limit, count = org_rules.flood_limit, org_rules.recent_from_sender
    if not msg.from_address or limit <= 0:
        return Continue({"verdict": "pass"})
    evidence = {
        "sender": msg.from_address,
        "recent": count,
        "limit": limit,
        "window_seconds": org_rules.flood_window_seconds,
    }
    if count >= limit:
        return Stop("held", "flood", {"verdict": "held", **evidence})
    return Continue({"verdict": "pass", "flood": evidence})
