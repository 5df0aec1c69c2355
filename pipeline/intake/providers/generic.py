"""The generic inbound JSON of ``001_…`` (``POST /api/rpc/tickets/email/inbound``).

Attachments come as URLs; they are fetched with the SSRF guard (``pipeline.fetch``) within
one size budget for the whole message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime, parseaddr
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import InputError
from pipeline.fetch import MAX_URLS, Deadline, fetch
from pipeline.intake.providers import Inbound, Upload
from pipeline.intake.providers.compose import compose_from_parsed_fields
from pipeline.records import Envelope

CHANNEL = "webhook:generic"
INVALID = 422
TOO_LARGE = 413


#: Message-IDs are ASCII (RFC 5322 §3.6.4): printable characters and separating blanks.
MESSAGE_IDS = r"^[\x20-\x7e\t]*$"


class AttachmentRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    filename: str | None = None
    contentType: str | None = None
    size: int | None = Field(None, ge=0)
    url: str


class InboundEmail(BaseModel):
    """The ``001_…`` payload (``from`` is a Python keyword, hence the alias)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    organizationId: UUID
    from_: str = Field(alias="from")
    to: str
    subject: str = ""
    text: str = ""
    html: str | None = None
    messageId: str | None = Field(None, pattern=MESSAGE_IDS)
    inReplyTo: str | None = Field(None, pattern=MESSAGE_IDS)
    references: str | None = Field(None, pattern=MESSAGE_IDS)
    attachments: list[AttachmentRef] = Field([], max_length=MAX_URLS)


def address(value: str, field: str) -> str:
    """The bare address in ``value``; raises ``InputError`` 422 naming ``field``."""
    _, addr = parseaddr(value)
    if "@" not in addr or addr.startswith("@") or addr.endswith("@"):
        raise InputError(f"{field}: not an email address", field, INVALID)
    return addr


def bracketed(message_id: str) -> str:
    """``abc@host`` → ``<abc@host>`` (RFC 5322 msg-id); already bracketed ids unchanged."""
    value = message_id.strip()
    return value if value.startswith("<") else f"<{value}>"


def fetch_attachments(
    payload: InboundEmail, max_bytes: int, allow_private: bool, deadline: Deadline | None = None
) -> list[Upload]:
    """Download every attachment within ``max_bytes`` and one ``deadline`` in total;
    raises ``InputError``."""
    uploads, budget, deadline = [], max_bytes, deadline or Deadline()
    for index, ref in enumerate(payload.attachments):
        field = f"attachments.{index}.url"
        if ref.size is not None and ref.size > budget:
            raise InputError(f"attachments exceed {max_bytes} bytes", field, TOO_LARGE)
        got = fetch(
            ref.url, max_bytes=budget, allow_private=allow_private, field=field, deadline=deadline
        )
        budget -= len(got.data)
        name = ref.filename or got.filename
        uploads.append(Upload(name, ref.contentType or got.content_type, got.data))
    return uploads


def to_inbound(payload: InboundEmail, uploads: list[Upload]) -> Inbound:
    """The payload as a message for the one door."""
    sender, recipient = address(payload.from_, "from"), address(payload.to, "to")
    headers = [
        ("From", payload.from_),
        ("To", payload.to),
        ("Subject", payload.subject),
        ("Date", format_datetime(datetime.now(UTC))),
    ]
    if payload.messageId:
        headers.append(("Message-ID", bracketed(payload.messageId)))
    if payload.inReplyTo:
        headers.append(("In-Reply-To", bracketed(payload.inReplyTo)))
    if payload.references:
        refs = " ".join(bracketed(r) for r in payload.references.replace(",", " ").split())
        headers.append(("References", refs))
    raw = compose_from_parsed_fields(headers, payload.text, payload.html or None, uploads)
    return Inbound(raw, Envelope(sender, (recipient,)))
