"""Subject lines: strip reply/forward prefixes, find ``[#1234]`` ticket tokens.

Mail clients prefix answers in their user's language: ``Re:``/``RE:`` (English and most),
``Fwd:``/``FW:``, ``AW:``/``WG:`` (German), ``SV:``/``VS:`` (Scandinavian), ``TR:``
(French forward), ``RV:`` (Spanish forward); mailing lists and gateways add ``[tags]``.
Outlook adds counters (``RE[2]:``) and full-width colons appear in East-Asian clients.
"""

from __future__ import annotations

import re

PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|fw|aw|wg|sv|vs|tr|rv)\s*(?:\[\d+\]|\(\d+\))?\s*[:\uff1a]|\[[^\]]*\])\s*",
    re.IGNORECASE,
)
TICKET_TOKEN = re.compile(r"\[#(\d{1,18})\]")
MAX_PREFIXES = 50


def strip_subject_prefixes(subject: str | None) -> str:
    """``subject`` without leading ``Re:``/``Fwd:``/…/``[…]`` prefixes, however many."""
    text = (subject or "").strip()
    for _ in range(MAX_PREFIXES):
        stripped = PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return text.strip()


def subject_key(subject: str | None) -> str:
    """What two subjects of one conversation share: no prefixes, no ticket tokens,
    whitespace collapsed, case folded. Empty for subjects with nothing left."""
    text = TICKET_TOKEN.sub(" ", strip_subject_prefixes(subject))
    return " ".join(text.split()).casefold()


def ticket_numbers(subject: str | None) -> list[int]:
    """Ticket numbers quoted as ``[#1234]`` in ``subject``, in order, without repeats."""
    numbers: list[int] = []
    for match in TICKET_TOKEN.finditer(subject or ""):
        number = int(match.group(1))
        if number not in numbers:
            numbers.append(number)
    return numbers
