"""External ticket ids in mail text: Zendesk, Jira, Freshdesk, and an organization's own.

A mail that mentions another helpdesk's ticket id is recorded with it in ``analysis`` (the
``002`` patterns API reads the same function), but such an id never links a mail to an
Intake ticket by itself. Formats are matched as whole tokens: Zendesk's ``#12345`` inside
Freshdesk's ``Ticket#12345`` is not a second match.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from pipeline.mail import bounded_regex

log = logging.getLogger(__name__)

BUILTIN_PATTERNS: tuple[dict[str, str], ...] = (
    {"key": "zendesk", "name": "Zendesk Ticket", "format": r"#\d{5,}"},
    {"key": "jira", "name": "Jira Issue", "format": r"[A-Z]+-\d+"},
    {"key": "freshdesk", "name": "Freshdesk Ticket", "format": r"Ticket#\d+"},
)
MAX_VALUES_PER_RULE = 20


def token_pattern(fmt: str) -> str:
    """``fmt`` anchored so it only matches a whole token (not inside a longer word)."""
    return rf"(?<![\w#])(?:{fmt})(?!\w)"


def rules_for(org_rules: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The built-in rules followed by the organization's; an org rule replaces a built-in
    rule with the same key."""
    own = [r for r in org_rules if r.get("is_active", True)]
    keys = {r["key"] for r in own}
    return [r for r in BUILTIN_PATTERNS if r["key"] not in keys] + own


def detect_patterns(text: str, org_rules: Iterable[Mapping[str, Any]] = ()) -> list[dict[str, str]]:
    """Every external id in ``text``: ``[{"key", "name", "value"}]``, in rule order.

    Invalid or runaway organization patterns are skipped (and logged), never raised.
    """
    found: list[dict[str, str]] = []
    for rule in rules_for(org_rules):
        for value in _values(rule, text):
            found.append({"key": rule["key"], "name": rule["name"], "value": value})
    return found


def _values(rule: Mapping[str, Any], text: str) -> list[str]:
    try:
        compiled = bounded_regex.compile_pattern(token_pattern(rule["format"]))
        matches = bounded_regex.find_all(compiled, text)
    except (ValueError, bounded_regex.PatternTimeout) as exc:
        log.warning("pattern rule %s skipped: %s", rule.get("key"), exc)
        return []
    return list(dict.fromkeys(matches))[:MAX_VALUES_PER_RULE]
