"""Regex searches that try only the positions where a line starts.

Python's ``re`` tries a pattern at every position of the text. A pattern whose matches can
only begin at a line start (``^`` in multiline mode) or at a newline fails at all the other
positions, and on a long body those failures were most of the cost of finding a reply's
new text: our own line patterns, and the reply library's large header pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

try:  # the standard library's own regex parser, to read a pattern's structure
    from re import _constants as sre
    from re import _parser as sre_parser
except ImportError:  # pragma: no cover - a Python that moved them: no shortcut
    sre = sre_parser = None

NEWLINE = ord("\n")


def line_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``^pattern`` (multiline) compiled as a newline then ``pattern``, for ``line_start``:
    with a literal first character the regex engine skips from newline to newline."""
    return re.compile("\n" + pattern, flags | re.MULTILINE)


def line_start(pattern: re.Pattern[str], text: str) -> int | None:
    """Where in ``text`` the first line matching a ``line_pattern`` starts, or ``None``.
    The newline put in front stands for the start of the text, so the match's start in the
    longer string is the line's start in ``text``."""
    found = pattern.search("\n" + text)
    return None if found is None else found.start()


def starts_at_line(pattern: re.Pattern[str]) -> bool:
    """True when the parsed pattern shows that every match begins at the start of the text,
    at a newline, or just after one. In doubt (or on a Python without ``re._parser``), False."""
    if sre_parser is None:  # pragma: no cover
        return False
    try:
        return _sequence_starts_at_line(list(sre_parser.parse(pattern.pattern, pattern.flags)))
    except Exception:  # pragma: no cover - an unknown node shape: do not rely on it
        return False


def _sequence_starts_at_line(items: list[Any]) -> bool:
    """Whether every match of the node sequence ``items`` begins at a line boundary."""
    if not items:
        return False
    (op, av), rest = items[0], items[1:]
    if op is sre.AT:
        return av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING)
    if op is sre.LITERAL:
        return av == NEWLINE
    if op in (sre.ASSERT, sre.ASSERT_NOT):  # zero width: the next node decides
        return _sequence_starts_at_line(rest)
    if op is sre.SUBPATTERN:
        return _sequence_starts_at_line(list(av[-1]) + rest)
    if op is sre.BRANCH:
        return all(_sequence_starts_at_line(list(alt) + rest) for alt in av[1])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        low, _, body = av
        return low >= 1 and _sequence_starts_at_line(list(body))
    return False


def _candidates(text: str) -> Iterator[int]:
    """0, then each newline's position and the one after it, in order, each once."""
    last = 0
    yield 0
    newline = text.find("\n")
    while newline >= 0:
        if newline > last:
            yield newline
        last = newline + 1
        yield last
        newline = text.find("\n", last)


class LineFindall:
    """A pattern whose ``findall`` tries only line starts and newlines; any other attribute
    is the pattern's own. Only for patterns that ``starts_at_line`` accepts."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self._pattern = pattern

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pattern, name)

    def findall(self, text: str) -> list[Any]:
        """What ``self._pattern.findall(text)`` returns."""
        found: list[Any] = []
        position = -1
        for candidate in _candidates(text):
            if candidate < position:
                continue
            match = self._pattern.match(text, candidate)
            if match is None:
                continue
            if match.end() == candidate:  # empty matches follow findall's own rules
                return self._pattern.findall(text)
            found.append(_findall_item(match))
            position = match.end()
        return found


def _findall_item(match: re.Match[str]) -> Any:
    """One item of a ``findall`` result: the match, its one group, or all its groups."""
    groups = match.re.groups
    if groups == 0:
        return match.group(0)
    if groups == 1:
        return match.group(1) or ""
    return match.groups("")
