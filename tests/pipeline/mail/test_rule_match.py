"""Category rule evaluation: fields, operators, order, stop flag, time bound."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import uuid4

from pipeline.mail.rule_match import evaluate, is_match
from pipeline.records import Message


def _message(**overrides) -> Message:
    values = {
        "id": 1,
        "org_id": uuid4(),
        "mailbox_id": None,
        "channel": "smtp",
        "folder": None,
        "imap_uid": None,
        "provider_message_id": None,
        "raw_sha256": "0" * 64,
        "raw_size": 1,
        "envelope_from": "bounce@example.org",
        "envelope_to": ["Support@Example.com"],
        "state": "processing",
        "stage": "categorize",
        "last_error": None,
        "message_id": "<m@x>",
        "in_reply_to": None,
        "references": [],
        "from_address": "alice@mail.bigcorp.com",
        "from_name": "Alice",
        "to_addresses": [{"email": "sales@example.com", "name": ""}],
        "cc_addresses": [{"email": "boss@example.com", "name": ""}],
        "reply_to": None,
        "subject": "Invoice 2024-11 overdue",
        "body_text": "Please pay the invoice.",
        "body_html": None,
        "new_text": "Please pay the invoice.",
        "headers": [["X-Priority", "1 (Highest)"], ["From", "Alice <alice@mail.bigcorp.com>"]],
        "sent_at": None,
        "received_at": datetime.now(UTC),
        "ticket_id": None,
        "reply_to_closed_ticket": False,
        "analysis": {},
        "notified": False,
        "dedupe_key": None,
        "duplicate_of": None,
        "has_attachments": False,
        "attachment_count": 0,
    }
    return Message(**{**values, **overrides})


def _rule(rule_id, field, operator, value, *, header_name=None, stop=False, labels=(), cat=1):
    return {
        "id": rule_id,
        "category_id": cat,
        "field": field,
        "header_name": header_name,
        "operator": operator,
        "value": value,
        "labels": list(labels),
        "stop_processing": stop,
    }


def _matched(*rules) -> list[int]:
    return [hit.rule_id for hit in evaluate(rules, _message()).hits]


def test_contains_and_equals_ignore_case():
    assert _matched(_rule(1, "subject", "contains", "INVOICE"))
    assert _matched(_rule(1, "subject", "equals", "  invoice 2024-11 OVERDUE "))
    assert not _matched(_rule(1, "subject", "equals", "invoice"))


def test_to_field_covers_to_cc_and_envelope_recipients():
    for address in ("sales@example.com", "boss@example.com", "support@example.com"):
        assert _matched(_rule(1, "to", "equals", address))


def test_from_body_and_named_header_fields():
    assert _matched(_rule(1, "from", "contains", "@mail.bigcorp"))
    assert _matched(_rule(1, "body", "contains", "please pay"))
    assert _matched(_rule(1, "header", "contains", "highest", header_name="x-priority"))
    assert not _matched(_rule(1, "header", "contains", "highest", header_name="X-Other"))


def test_domain_matches_the_domain_and_its_subdomains_only():
    assert _matched(_rule(1, "from", "domain", "@bigcorp.com"))
    assert _matched(_rule(1, "from", "domain", "mail.bigcorp.com"))
    assert not _matched(_rule(1, "from", "domain", "corp.com"))
    assert _matched(_rule(1, "header", "domain", "bigcorp.com", header_name="From"))
    assert not is_match("domain", "bigcorp.com", ["bigcorp.com rocks"], "subject")


def test_regex_searches_case_insensitively():
    assert _matched(_rule(1, "subject", "regex", r"^invoice \d{4}-\d{2}\b"))
    assert not _matched(_rule(1, "subject", "regex", r"^overdue"))


def test_rules_run_in_order_and_stop_processing_ends_at_that_rule():
    rules = (
        _rule(1, "subject", "contains", "invoice", labels=["billing"]),
        _rule(2, "from", "domain", "bigcorp.com", stop=True, cat=2),
        _rule(3, "body", "contains", "pay", cat=3),
    )
    assert _matched(*rules) == [1, 2]


def test_a_stop_rule_that_does_not_match_does_not_stop():
    rules = (
        _rule(1, "subject", "contains", "nothing like this", stop=True),
        _rule(2, "subject", "contains", "invoice"),
    )
    assert _matched(*rules) == [2]


def test_invalid_and_runaway_regexes_are_reported_and_skipped_within_the_time_bound():
    msg = _message(subject="a" * 5000 + "!")
    rules = (
        _rule(1, "subject", "regex", "(a|aa)+$"),
        _rule(2, "subject", "regex", "(unclosed"),
        _rule(3, "subject", "contains", "aaa"),
    )
    started = time.monotonic()
    result = evaluate(rules, msg)
    assert time.monotonic() - started < 1.0
    assert [hit.rule_id for hit in result.hits] == [3]
    assert [(e["rule_id"], e["error"]) for e in result.errors] == [
        (1, "PatternTimeout"),
        (2, "ValueError"),
    ]
