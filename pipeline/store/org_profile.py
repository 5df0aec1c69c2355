"""Everything the stages read about a message's organization, in one round trip.

Policies, filter lists, flood settings with the sender's recent count, pattern rules,
voicemail patterns, category rules, the event types someone subscribed to and the
auto-reply settings: eight small queries when each stage asked for its own, one here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline.db import Connection
from pipeline.mail.voicemail_patterns import VoicemailPattern
from pipeline.records import Message
from pipeline.store.filter_lists import FilterRules
from pipeline.store.policies import TicketPolicy


@dataclass(frozen=True)
class AutoReplySettings:
    enabled: bool = False
    subject: str | None = None
    body: str | None = None
    window_seconds: int = 0
    rpc_enabled: bool = False  # also to mail that came through the public 001 RPC


@dataclass(frozen=True)
class OrgProfile:
    policy: TicketPolicy = field(default_factory=TicketPolicy)
    filter_rules: FilterRules = field(default_factory=lambda: FilterRules([], [], 0, 0))
    pattern_rules: list[dict[str, Any]] = field(default_factory=list)
    voicemail_patterns: list[VoicemailPattern] = field(default_factory=list)
    phone_region: str | None = None
    category_rules: list[dict[str, Any]] = field(default_factory=list)
    subscribed_events: frozenset[str] = frozenset()
    auto_reply: AutoReplySettings = field(default_factory=AutoReplySettings)


PROFILE_SQL = """
SELECT o.unmatched_policy, o.closed_reply_policy, o.append_open_ticket,
       o.flood_limit, o.flood_window_seconds, o.settings->>'phone_region' AS phone_region,
       o.auto_reply_enabled, o.auto_reply_subject, o.auto_reply_body,
       o.auto_reply_window_seconds, o.rpc_auto_reply_enabled,
       ARRAY(SELECT email FROM excluded_emails e WHERE e.org_id = o.id ORDER BY e.id)
           AS excluded,
       ARRAY(SELECT subject FROM ignored_subjects s WHERE s.org_id = o.id ORDER BY s.id)
           AS ignored,
       (SELECT count(*) FROM messages m
        WHERE %(sender)s::text IS NOT NULL AND m.org_id = o.id
          AND m.from_address = %(sender)s AND m.id <> %(id)s
          AND m.state <> 'duplicate' AND m.received_at <= %(until)s
          AND m.received_at > %(until)s - make_interval(secs => o.flood_window_seconds)
       ) AS recent,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('key', p.key, 'name', p.name,
                                                     'format', p.format) ORDER BY p.id), '[]')
        FROM pattern_rules p WHERE p.org_id = o.id AND p.is_active) AS pattern_rules,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                   'name', v.name, 'sender_regex', v.sender_regex,
                   'subject_regex', v.subject_regex, 'body_regex', v.body_regex)
                ORDER BY v.position, v.id), '[]')
        FROM voicemail_patterns v WHERE v.org_id = o.id AND v.is_active) AS voicemail_patterns,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                   'id', r.id, 'category_id', r.category_id, 'field', r.field,
                   'header_name', r.header_name, 'operator', r.operator, 'value', r.value,
                   'labels', r.labels, 'stop_processing', r.stop_processing)
                ORDER BY r.position, r.id), '[]')
        FROM category_rules r JOIN categories c ON c.id = r.category_id
        WHERE r.org_id = o.id AND r.is_active AND c.is_active) AS category_rules,
       ARRAY(SELECT DISTINCT e FROM webhooks w, unnest(w.events) e
             WHERE w.org_id = o.id AND w.is_active) AS subscribed_events
FROM organizations o WHERE o.id = %(org)s
"""


def load(conn: Connection, msg: Message) -> OrgProfile:
    """The profile of ``msg``'s organization; the flood count is of ``msg``'s sender."""
    row = conn.execute(
        PROFILE_SQL,
        {
            "org": msg.org_id,
            "sender": msg.from_address,
            "id": msg.id,
            "until": msg.received_at or datetime.now(UTC),
        },
    ).fetchone()
    if row is None:
        return OrgProfile()
    return OrgProfile(
        policy=TicketPolicy(
            row["unmatched_policy"], row["closed_reply_policy"], row["append_open_ticket"]
        ),
        filter_rules=FilterRules(
            row["excluded"],
            row["ignored"],
            row["flood_limit"],
            row["flood_window_seconds"],
            int(row["recent"]),
        ),
        pattern_rules=row["pattern_rules"],
        voicemail_patterns=[VoicemailPattern(**p) for p in row["voicemail_patterns"]],
        phone_region=row["phone_region"],
        category_rules=row["category_rules"],
        subscribed_events=frozenset(row["subscribed_events"]),
        auto_reply=AutoReplySettings(
            row["auto_reply_enabled"],
            row["auto_reply_subject"],
            row["auto_reply_body"],
            row["auto_reply_window_seconds"],
            row["rpc_auto_reply_enabled"],
        ),
    )
