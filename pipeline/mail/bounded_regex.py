"""Regular expressions supplied by organizations, run with a time and size bound.

Category rules and pattern rules come from API clients. A pattern such as ``(a|aa)+$``
backtracks catastrophically on ordinary text; with the standard ``re`` module one such
rule would pin a worker thread forever. The ``regex`` package takes a ``timeout`` per
call, so a runaway rule costs at most ``TIMEOUT_SECONDS`` and is reported instead.
"""

from __future__ import annotations

from functools import lru_cache

import regex

MAX_PATTERN_CHARS = 1_000
MAX_TEXT_CHARS = 200_000
TIMEOUT_SECONDS = 0.05


class PatternTimeout(Exception):
    """A pattern ran longer than its time bound on a text."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, ignore_case: bool = False) -> regex.Pattern:
    """The compiled ``pattern``; raises ``ValueError`` if it is too long or invalid."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"pattern longer than {MAX_PATTERN_CHARS} characters")
    flags = regex.IGNORECASE if ignore_case else 0
    try:
        return regex.compile(pattern, flags | regex.VERSION0)
    except (regex.error, TypeError) as exc:
        raise ValueError(f"invalid regular expression: {exc}") from exc


def search(compiled: regex.Pattern, text: str, timeout: float = TIMEOUT_SECONDS) -> bool:
    """Whether ``compiled`` matches somewhere in (the first ``MAX_TEXT_CHARS`` of) ``text``.

    Raises ``PatternTimeout`` when the bound is exceeded.
    """
    try:
        return compiled.search(text[:MAX_TEXT_CHARS], timeout=timeout) is not None
    except TimeoutError as exc:
        raise PatternTimeout(compiled.pattern) from exc


def find_all(compiled: regex.Pattern, text: str, timeout: float = TIMEOUT_SECONDS) -> list[str]:
    """Every match of ``compiled`` in ``text`` (bounded like ``search``)."""
    try:
        return [
            m.group(0)
            for m in compiled.finditer(text[:MAX_TEXT_CHARS], timeout=timeout)
            if m.group(0)
        ]
    except TimeoutError as exc:
        raise PatternTimeout(compiled.pattern) from exc
