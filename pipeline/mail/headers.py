"""Header values as text, tolerant of malformed RFC 2047 words and raw 8-bit bytes.

We decode from the raw header (``Message.raw_items``) rather than through the policy's
header objects: those replace undecodable bytes with U+FFFD, give up on unknown charsets,
and decode each encoded word alone, which breaks multi-byte characters that a sender split
across two words (common with some webmail). Malformed words are kept literally.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import quopri
import re
from datetime import UTC, datetime
from email.message import Message

from pipeline.mail.charsets import clean, decode_bytes, repair

ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
BETWEEN_WORDS = re.compile(r"\s*")


def unfold(value: object) -> str:
    text = repair(str(value))
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


def _word_bytes(encoding: str, payload: str) -> bytes | None:
    try:
        if encoding.lower() == "b":
            payload = payload + "=" * (-len(payload) % 4)
            return base64.b64decode(payload.encode("ascii"), validate=False)
        return quopri.decodestring(payload.replace("_", " ").encode("ascii"), header=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


def _segments(value: str) -> list[tuple[str | None, bytes | str]]:
    """Split ``value`` into literal text and (charset, bytes) of encoded words.

    Whitespace between two encoded words is dropped (RFC 2047 §6.2)."""
    segments: list[tuple[str | None, bytes | str]] = []
    position = 0
    for match in ENCODED_WORD.finditer(value):
        literal = value[position : match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        charset = match.group(1).split("*")[0].lower()  # RFC 2231 language suffix
        if data is None:
            segments.append((None, literal + match.group(0)))
        else:
            follows_word = segments and segments[-1][0] is not None
            if literal and not (follows_word and not literal.strip()):
                segments.append((None, literal))
            segments.append((charset, data))
        position = match.end()
    segments.append((None, value[position:]))
    return segments


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words in ``value``; adjacent words in one charset are joined
    before decoding so split multi-byte characters survive."""
    if "=?" not in value:
        return clean(value) or ""
    merged: list[tuple[str | None, bytes | str]] = []
    for charset, data in _segments(value):
        if merged and charset is not None and merged[-1][0] == charset:
            merged[-1] = (charset, merged[-1][1] + data)  # type: ignore[operator]
        else:
            merged.append((charset, data))
    parts = [
        data if charset is None else decode_bytes(data, charset).text  # type: ignore[arg-type]
        for charset, data in merged
    ]
    return clean("".join(parts)) or ""  # type: ignore[arg-type]


class Fields:
    """A message's top-level header fields, each unfolded once: a parse asks for ten of
    them by name and stores them all, and scanning ``raw_items`` for each was a cost."""

    def __init__(self, msg: Message) -> None:
        self.raw = [(name, unfold(value)) for name, value in msg.raw_items()]
        self._by_name: dict[str, list[str]] = {}
        for name, value in self.raw:
            self._by_name.setdefault(name.lower(), []).append(value)

    def values(self, name: str) -> list[str]:
        """Every unfolded value of header ``name``."""
        return self._by_name.get(name.lower(), [])

    def text(self, name: str) -> str | None:
        """The first value of header ``name`` as display text, or ``None``."""
        values = self.values(name)
        return decode_words(values[0]) if values else None

    def all(self) -> list[list[str]]:
        """Every header as ``[name, decoded value]``, in order."""
        return [[clean(unfold(name)) or "", decode_words(value)] for name, value in self.raw]

    def addresses(self, name: str) -> list[dict[str, str]]:
        """``[{"email", "name"}]`` for an address header; entries without an address are
        skipped."""
        result = []
        for display, addr in email.utils.getaddresses(self.values(name)):
            addr = clean(addr.strip().strip("<>")) or ""
            if "@" in addr and " " not in addr:
                result.append({"email": addr.lower(), "name": decode_words(display).strip()})
        return result

    def date(self) -> datetime | None:
        """The Date header as an aware datetime; ``None`` when missing or absurd."""
        value = self.text("Date")
        if not value:
            return None
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if not 1970 <= when.year <= 2200:
            return None
        return when if when.tzinfo else when.replace(tzinfo=UTC)


def raw_values(msg: Message, name: str) -> list[str]:
    """Every raw value of header ``name``, unfolded, 8-bit bytes repaired."""
    return Fields(msg).values(name)


def header_text(msg: Message, name: str) -> str | None:
    """The first value of header ``name`` as display text, or ``None``."""
    return Fields(msg).text(name)


def all_headers(msg: Message) -> list[list[str]]:
    """Every header as ``[name, decoded value]``, in order."""
    return Fields(msg).all()


def addresses(msg: Message, name: str) -> list[dict[str, str]]:
    """``[{"email", "name"}]`` for an address header; entries without an address are skipped."""
    return Fields(msg).addresses(name)


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a References/In-Reply-To value, angle brackets kept."""
    if not value:
        return []
    return re.findall(r"<[^<>\s]+>", value)


def parsed_date(msg: Message) -> datetime | None:
    """The Date header as an aware datetime; ``None`` when missing or absurd."""
    return Fields(msg).date()
