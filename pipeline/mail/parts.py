"""Turn leaf parts that are not bodies into ``Part`` values: bytes, a safe filename,
inline placement and Content-ID."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import Message

from pipeline.mail import structure
from pipeline.mail.charsets import clean
from pipeline.mail.headers import decode_words

EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "message/rfc822": ".eml",
    "text/calendar": ".ics",
    "text/html": ".html",
    "text/plain": ".txt",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
}


@dataclass(frozen=True)
class Part:
    """An attachment or inline part, with its decoded bytes."""

    filename: str
    mime_type: str
    data: bytes
    is_inline: bool
    content_id: str | None


def payload_bytes(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _serialized(part: Message) -> bytes:
    """Bytes of a ``message/*`` leaf whose payload is itself parsed mail."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return payload_bytes(part)
    chunks = []
    for inner in payload:
        try:
            chunks.append(inner.as_bytes(policy=policy.SMTP))
        except Exception:  # headers that cannot be re-encoded: keep their text
            chunks.append(inner.as_string().encode("utf-8", "surrogateescape"))
    return b"\r\n".join(chunks)


def _filename(leaf: structure.Leaf, index: int) -> str:
    part = leaf.part
    name = decode_words(leaf.filename or "")
    name = re.sub(r"[\x00-\x1f/\\]", "_", name).strip(" .")[:200]
    if name:
        return name
    if leaf.kind == "nested":
        subject = decode_words(str(part.get_payload()[0].get("Subject", "") or ""))
        subject = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", subject).strip(" .")[:120]
        if subject:
            return f"{subject}.eml"
    return f"attachment-{index}{EXTENSIONS.get(leaf.content_type, '.bin')}"


def _content_id(part: Message) -> str | None:
    value = str(part.get("Content-ID") or "").strip().strip("<>").strip()
    return clean(value) or None


def to_part(leaf: structure.Leaf, index: int, cids_in_html: set[str]) -> Part:
    part, placement = leaf.part, leaf.disposition
    cid = _content_id(part)
    inline = placement == "inline" or (cid is not None and placement != "attachment")
    data = _serialized(part) if leaf.content_type.startswith("message/") else payload_bytes(part)
    return Part(
        filename=clean(_filename(leaf, index)) or f"attachment-{index}.bin",
        mime_type=leaf.content_type,
        data=data,
        is_inline=inline or (cid is not None and cid in cids_in_html),
        content_id=cid,
    )
