"""External helpdesk ticket ids in mail (``002_…`` pattern detection).

The built-in rules are Zendesk (``#12345``), Jira (``ABC-123``) and Freshdesk
(``Ticket#123``); organizations add their own ``pattern_rules``. Detection is pure: rules
and text in, matches out. Only the first ``MAX_SCAN_CHARS`` of a body are scanned, which
bounds the cost of a client-supplied regular expression on a huge mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
