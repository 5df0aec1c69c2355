"""External ticket ids in mail text: Zendesk, Jira, Freshdesk, and an organization's own.

Two readers of the same rules: ``detect_patterns`` for the match_thread stage (whole
tokens only, organization patterns run under a time bound, recorded in ``analysis``) and
``detect`` for ``POST /api/patterns/detect`` (every match with its field and position).
Such an id never links a mail to an Intake ticket by itself.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipeline.mail import bounded_regex

log = logging.getLogger(__name__)

MAX_SCAN_CHARS = 100_000
MAX_MATCHES_PER_RULE = 50


@dataclass(frozen=True)
class PatternRule:
    key: str
    name: str
    format: str
    id: int | None = None  # the ``pattern_rules`` row; ``None`` for a built-in rule

    @property
    def builtin(self) -> bool:
        return self.id is None


@dataclass(frozen=True)
class PatternMatch:
    rule: PatternRule
    value: str
    field: str  # "subject" or "body"
    start: int


BUILTIN_RULES = (
    PatternRule("zendesk", "Zendesk Ticket", r"#\d{5,}"),
    PatternRule("jira", "Jira Issue", r"[A-Z]+-\d+"),
    PatternRule("freshdesk", "Freshdesk Ticket", r"Ticket#\d+"),
)
BUILTIN_KEYS = frozenset(rule.key for rule in BUILTIN_RULES)


@lru_cache(maxsize=512)
def compiled(expression: str) -> re.Pattern[str]:
    """Raises ``re.error`` for an invalid expression."""
    return re.compile(expression)


def is_valid_format(expression: str) -> bool:
    try:
        compiled(expression)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


def find_in(rule: PatternRule, text: str, field: str) -> list[PatternMatch]:
    """Every match of ``rule`` in ``text`` (at most ``MAX_MATCHES_PER_RULE``)."""
    found: list[PatternMatch] = []
    for match in compiled(rule.format).finditer(text[:MAX_SCAN_CHARS]):
        if match.group(0):
            found.append(PatternMatch(rule, match.group(0), field, match.start()))
        if len(found) >= MAX_MATCHES_PER_RULE:
            break
    return found


def detect(
    rules: tuple[PatternRule, ...] | list[PatternRule], subject: str | None, body: str | None
) -> list[PatternMatch]:
    """Every match of every rule, subject first, in rule order."""
    matches: list[PatternMatch] = []
    for rule in rules:
        matches += find_in(rule, subject or "", "subject")
        matches += find_in(rule, body or "", "body")
    return matches


BUILTIN_PATTERNS: tuple[dict[str, str], ...] = tuple(
    {"key": r.key, "name": r.name, "format": r.format} for r in BUILTIN_RULES
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
