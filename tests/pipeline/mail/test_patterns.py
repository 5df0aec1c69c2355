"""External ticket ids: built-in formats and an organization's own rules."""

import time

from pipeline.mail.patterns import BUILTIN_PATTERNS, detect_patterns


def _found(text, rules=()):
    return [(p["key"], p["value"]) for p in detect_patterns(text, rules)]


def test_builtin_rules_are_zendesk_jira_freshdesk_in_the_documented_format():
    assert [(r["key"], r["format"]) for r in BUILTIN_PATTERNS] == [
        ("zendesk", r"#\d{5,}"),
        ("jira", r"[A-Z]+-\d+"),
        ("freshdesk", r"Ticket#\d+"),
    ]


def test_zendesk_needs_five_digits():
    assert _found("see #12345 and #1234") == [("zendesk", "#12345")]


def test_jira_keys_are_upper_case_whole_tokens():
    assert _found("OPS-42 fixed, ops-43 not, XOPS-1x neither") == [("jira", "OPS-42")]


def test_freshdesk_id_is_not_also_a_zendesk_id():
    assert _found("Ticket#123456") == [("freshdesk", "Ticket#123456")]


def test_each_value_is_reported_once():
    assert _found("OPS-1 OPS-1 OPS-2") == [("jira", "OPS-1"), ("jira", "OPS-2")]


def test_organization_rules_are_added_and_can_replace_a_builtin():
    rules = [
        {"key": "order", "name": "Order", "format": r"ORD\d{3}"},
        {"key": "jira", "name": "Our Jira", "format": r"HELP-\d+"},
    ]
    found = detect_patterns("ORD123 OPS-1 HELP-9", rules)
    assert [(p["key"], p["name"], p["value"]) for p in found] == [
        ("order", "Order", "ORD123"),
        ("jira", "Our Jira", "HELP-9"),
    ]


def test_invalid_and_runaway_organization_rules_are_skipped_quickly():
    rules = [
        {"key": "broken", "name": "Broken", "format": "(unclosed"},
        {"key": "evil", "name": "Evil", "format": "(a|aa)+$"},
    ]
    started = time.monotonic()
    assert _found("a" * 5000 + "! OPS-7", rules) == [("jira", "OPS-7")]
    assert time.monotonic() - started < 1.0
