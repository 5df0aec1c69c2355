"""Tolerant MIME parsing with the standard library (``policy.default``) into plain values.

``parse`` never raises on merely malformed mail: wrong charsets, broken boundaries and
bad encoded words are repaired or kept literally, and what was done is noted. It raises
``UnparseableMail`` only when nothing sensible can be read (empty input, absurd nesting,
a parser failure); the stage then keeps the raw message and marks it failed. A message of
more than ``max_parts`` MIME parts is read up to the cap only (``part_cap``), noted as
``mime_parts_capped``.
"""

from __future__ import annotations

import email
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from typing import Any

from pipeline.mail import boundaries, headers, part_cap, quotes, structure
from pipeline.mail.bodies import Bodies, Part, collect
from pipeline.mail.charsets import clean
from pipeline.mail.reading import reading_policy

MAX_PARTS = 1000


class UnparseableMail(Exception):
    """Nothing sensible can be read from these bytes; the reason is the message."""


@dataclass
class ParsedMail:
    headers: list[list[str]]
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str | None
    from_name: str | None
    to_addresses: list[dict[str, str]]
    cc_addresses: list[dict[str, str]]
    reply_to: str | None
    subject: str
    sent_at: datetime | None
    body_text: str | None
    body_html: str | None
    new_text: str | None = None
    parts: list[Part] = field(default_factory=list)
    charsets_used: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def parse_bytes(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def _first_id(fields: headers.Fields, name: str) -> str | None:
    found = headers.message_ids(fields.text(name))
    return clean(found[0]) if found else None


def _defects(msg: Message) -> list[str]:
    names: list[str] = []
    for part in msg.walk():
        names += [type(d).__name__ for d in part.defects if type(d).__name__ not in names]
    return names


PARSE_ERRORS = (ValueError, TypeError, LookupError, IndexError, AttributeError)


def _tolerant_parse(raw: bytes) -> tuple[EmailMessage, dict[str, Any]]:
    """``policy.default`` first (``reading_policy``: the same, each header parsed once). It
    parses some headers while feeding and trips on odd bytes (a NUL in an RFC 2231 charset
    raises ValueError), so then the legacy policy, which reads headers lazily, and last the
    same bytes without their NULs, which no header may hold."""
    reading = reading_policy()
    attempts = (
        (raw, reading, {}),
        (raw, policy.compat32, {"policy": "compat32"}),
        (raw.replace(b"\x00", b""), reading, {"nul_bytes_removed": True}),
    )
    for index, (data, chosen, notes) in enumerate(attempts):
        try:
            return email.message_from_bytes(data, policy=chosen), dict(notes)  # type: ignore[return-value]
        except PARSE_ERRORS:
            if index == len(attempts) - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def read_message(raw: bytes) -> tuple[EmailMessage, dict[str, Any]]:
    """The parsed tree of ``raw`` (a lost boundary repaired) and notes on what was done."""
    if not raw.strip():
        raise UnparseableMail("empty message")
    msg, notes = _tolerant_parse(raw)
    if not msg.keys():
        notes["no_header_fields"] = True
    repaired = boundaries.repair(raw, msg)
    if repaired is not None:
        msg, notes["boundary_repaired"] = repaired, True
    return msg, notes


def parse(raw: bytes, max_parts: int = MAX_PARTS) -> ParsedMail:
    """Parse ``raw`` into a ``ParsedMail`` of at most ``max_parts`` parts; raises
    ``UnparseableMail`` only for hopeless input."""
    try:
        capped = part_cap.cap_parts(raw, max_parts)
        msg, notes = read_message(capped.raw)
        found = collect(msg)
        _keep_within(found, notes, max_parts, capped.parts_found)
        return _assemble(msg, found, notes)
    except UnparseableMail:
        raise
    except (RecursionError, structure.TooDeep) as exc:
        raise UnparseableMail(f"MIME structure too deep: {exc}") from exc
    except Exception as exc:  # the reason is recorded; the raw message is kept
        raise UnparseableMail(f"{type(exc).__name__}: {exc}") from exc


def _keep_within(found: Bodies, notes: dict[str, Any], limit: int, parts_found: int | None) -> None:
    """At most ``limit`` parts (a winmail.dat can hold many files), noting any cut."""
    if parts_found is None and len(found.parts) <= limit:
        return
    notes["mime_parts_capped"] = {
        "limit": limit,
        "parts_found": max(parts_found or 0, len(found.parts)),
    }
    del found.parts[limit:]


def _assemble(msg: EmailMessage, found: Bodies, notes: dict[str, Any]) -> ParsedMail:
    fields = headers.Fields(msg)
    sender = _first(fields.addresses("From"))
    reply_to = _first(fields.addresses("Reply-To"))
    new_text, method = quotes.extract_new_text(found.text)
    notes.update(found.notes, body_source=found.source, new_text=method)
    return ParsedMail(
        headers=fields.all(),
        message_id=_first_id(fields, "Message-ID"),
        in_reply_to=_first_id(fields, "In-Reply-To"),
        references=headers.message_ids(fields.text("References")),
        from_address=sender["email"] if sender else None,
        from_name=(sender["name"] or None) if sender else None,
        to_addresses=fields.addresses("To"),
        cc_addresses=fields.addresses("Cc"),
        reply_to=reply_to["email"] if reply_to else None,
        subject=fields.text("Subject") or "",
        sent_at=fields.date(),
        body_text=found.text,
        body_html=found.html,
        new_text=clean(new_text),
        parts=found.parts,
        charsets_used=found.charsets,
        defects=_defects(msg),
        notes=notes,
    )


def _first(values: list[dict[str, str]]) -> dict[str, str] | None:
    return values[0] if values else None
