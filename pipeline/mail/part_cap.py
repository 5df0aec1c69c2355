"""Bound the number of MIME parts of one message before the parser builds any of them.

The standard library's parser makes a ``Message`` (headers parsed, payload kept) for every
part: 100,000 one-line parts took a minute and a gigabyte. So the raw bytes are scanned
first for delimiter lines (``--token``), and a message with more than the cap is cut at
the line that opens the first part past it; the parser then reads the cut copy (its last
multipart left unclosed, which it tolerates) while the raw message itself stays stored
whole. A token counts as a boundary when at least two lines use it (a part's opening and
the close, or two openings): this needs no trust in ``boundary=`` parameters, which may be
missing, wrong (``boundaries.repair`` then guesses) or spelled in RFC 2231 pieces.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

DELIMITER_LINE = re.compile(rb"^--([^\r\n]+?)(--)?[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class Capped:
    """The bytes to parse, and how many parts the whole message has when it was cut."""

    raw: bytes
    parts_found: int | None = None  # None: within the cap, nothing was cut


def cap_parts(raw: bytes, limit: int) -> Capped:
    """``raw`` as it is when it has at most ``limit`` parts, else cut before part
    ``limit + 1``; linear in the size of ``raw``."""
    if raw.count(b"\n--") + 1 <= limit:  # every delimiter line starts a line with "--"
        return Capped(raw)
    lines: Counter[bytes] = Counter()
    openings: Counter[bytes] = Counter()
    for match in DELIMITER_LINE.finditer(raw):
        lines[match.group(1)] += 1
        if not match.group(2):
            openings[match.group(1)] += 1
    found = sum(count for token, count in openings.items() if lines[token] >= 2)
    if found <= limit:
        return Capped(raw)
    return Capped(raw[: _cut_at(raw, limit, lines)], found)


def _cut_at(raw: bytes, limit: int, lines: Counter[bytes]) -> int:
    """The offset of the line that opens part ``limit + 1``."""
    seen = 0
    for match in DELIMITER_LINE.finditer(raw):
        if not match.group(2) and lines[match.group(1)] >= 2:
            seen += 1
            if seen > limit:
                return match.start()
    return len(raw)  # pragma: no cover - cap_parts counted more than limit openings
