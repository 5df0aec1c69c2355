"""Tolerant MIME parsing with the standard library (``policy.default``) into plain values."""

from __future__ import annotations

import email
import email.utils
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from typing import Any

FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")


@dataclass(frozen=True)
class Part:
    """An attachment or inline part, with its decoded bytes."""

    filename: str
    mime_type: str
    data: bytes
    is_inline: bool
    content_id: str | None


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
    parts: list[Part] = field(default_factory=list)
    charsets_used: dict[str, str] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)


def parse_bytes(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def header_text(msg: Message, name: str) -> str | None:
    """A header's decoded value; malformed encoded words fall back to the raw text."""
    try:
        value = msg.get(name)
    except (ValueError, IndexError, TypeError, AttributeError):
        value = None
        raw = msg.get_all(name, failobj=None) if hasattr(msg, "get_all") else None
        if raw:
            value = str(raw[0])
    if value is None:
        return None
    return " ".join(str(value).replace("\x00", "").split())


def all_headers(msg: Message) -> list[list[str]]:
    pairs = []
    for name, value in msg.raw_items():
        try:
            text = str(msg.policy.header_factory(name, value))
        except Exception:
            text = str(value)
        pairs.append([name, text])
    return pairs


def addresses(msg: Message, name: str) -> list[dict[str, str]]:
    """``[{"email", "name"}]`` for an address header; unparseable entries are skipped."""
    values = []
    for raw in msg.get_all(name, failobj=[]) or []:
        values.append(str(raw))
    result = []
    for display, addr in email.utils.getaddresses(values):
        if addr and "@" in addr:
            result.append({"email": addr.strip().lower(), "name": display.strip()})
    return result


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a References/In-Reply-To value, angle brackets kept."""
    if not value:
        return []
    ids = []
    for token in value.replace(",", " ").split():
        token = token.strip()
        if token.startswith("<") and token.endswith(">") and len(token) > 2:
            ids.append(token)
    return ids


def decode_text(part: Message) -> tuple[str, str]:
    """Decode a text part: declared charset, then UTF-8, then cp1252/latin-1.

    Returns the text and the charset actually used (mislabelled mail is common).
    """
    payload = part.get_payload(decode=True) or b""
    declared = part.get_content_charset()
    for charset in (declared, *FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            return payload.decode(charset).replace("\x00", ""), charset
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1", errors="replace"), "latin-1"


def parsed_date(msg: Message) -> datetime | None:
    value = header_text(msg, "Date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _body_parts(msg: EmailMessage) -> tuple[Message | None, Message | None]:
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except (KeyError, AttributeError, TypeError):
        return None, None
    return plain, html


def _is_attachment(part: Message, bodies: tuple[Message | None, ...]) -> bool:
    if part.is_multipart() or any(part is b for b in bodies):
        return False
    disposition = part.get_content_disposition()
    if disposition == "attachment" or part.get_filename():
        return True
    if part.get("Content-ID"):
        return True
    return part.get_content_maintype() not in {"text", "multipart"}


def _part_filename(part: Message, index: int) -> str:
    try:
        name = part.get_filename()
    except (ValueError, TypeError):
        name = None
    if name:
        return name.replace("/", "_").replace("\\", "_").strip() or f"attachment-{index}"
    ext = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/gif": ".gif",
        "message/rfc822": ".eml",
        "text/calendar": ".ics",
    }.get(part.get_content_type(), ".bin")
    return f"attachment-{index}{ext}"


def _part_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        if isinstance(inner, list) and inner:
            return inner[0].as_bytes(policy=policy.SMTP)
    return part.get_payload(decode=True) or b""


def collect_parts(msg: EmailMessage, bodies: tuple[Message | None, ...]) -> list[Part]:
    """Every attachment and inline part (images by Content-ID) that is not a chosen body."""
    parts = []
    for index, part in enumerate(msg.walk()):
        if part is msg and not msg.is_multipart():
            continue
        if not _is_attachment(part, bodies):
            continue
        cid = (part.get("Content-ID") or "").strip().strip("<>") or None
        parts.append(
            Part(
                filename=_part_filename(part, index),
                mime_type=part.get_content_type(),
                data=_part_bytes(part),
                is_inline=part.get_content_disposition() == "inline"
                or (cid is not None and part.get_content_disposition() != "attachment"),
                content_id=cid,
            )
        )
    return parts


def first_address(msg: Message, name: str) -> dict[str, str] | None:
    found = addresses(msg, name)
    return found[0] if found else None


def parse(raw: bytes) -> ParsedMail:
    """Parse ``raw`` into a ``ParsedMail``; never raises on malformed mail."""
    msg = parse_bytes(raw)
    plain, html = _body_parts(msg)
    charsets: dict[str, Any] = {}
    body_text = body_html = None
    if plain is not None:
        body_text, charsets["text"] = decode_text(plain)
    if html is not None:
        body_html, charsets["html"] = decode_text(html)
    sender = first_address(msg, "From")
    reply_to = first_address(msg, "Reply-To")
    return ParsedMail(
        headers=all_headers(msg),
        message_id=(message_ids(header_text(msg, "Message-ID")) or [None])[0],
        in_reply_to=(message_ids(header_text(msg, "In-Reply-To")) or [None])[0],
        references=message_ids(header_text(msg, "References")),
        from_address=sender["email"] if sender else None,
        from_name=sender["name"] if sender else None,
        to_addresses=addresses(msg, "To"),
        cc_addresses=addresses(msg, "Cc"),
        reply_to=reply_to["email"] if reply_to else None,
        subject=header_text(msg, "Subject") or "",
        sent_at=parsed_date(msg),
        body_text=body_text,
        body_html=body_html,
        parts=collect_parts(msg, (plain, html)),
        charsets_used=charsets,
        defects=[type(d).__name__ for d in msg.defects],
    )
