"""Postmark inbound webhooks (JSON, attachments in base64).

Postmark's ``MessageID`` is its own id for the inbound message, not the mail's Message-ID
header (which, when present, is among ``Headers``): the first becomes the message's
``provider_message_id``, the second stays in the rebuilt headers.
"""

from __future__ import annotations

import base64
import binascii
from email.headerregistry import Address
from email.utils import formataddr

from pydantic import BaseModel, ConfigDict

from pipeline.errors import InputError
from pipeline.intake.providers import Inbound, Upload, validated
from pipeline.intake.providers.compose import compose_from_parsed_fields
from pipeline.records import Envelope

INVALID = 422
# Headers Postmark gives as separate fields; a copy in ``Headers`` would be a second one.
OWN_FIELDS = frozenset({"from", "to", "cc", "subject", "date", "reply-to"})


class Person(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Email: str
    Name: str = ""


class Header(BaseModel):
    Name: str
    Value: str


class Attachment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Name: str = "attachment"
    ContentType: str = "application/octet-stream"
    Content: str | None = None
    Data: str | None = None  # older payloads and some docs use Data (ANY-PM)
    ContentID: str = ""


class InboundPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")
    MessageID: str
    FromFull: Person
    ToFull: list[Person] = []
    CcFull: list[Person] = []
    OriginalRecipient: str | None = None
    Subject: str = ""
    Date: str | None = None
    ReplyTo: str | None = None
    TextBody: str | None = None
    HtmlBody: str | None = None
    Headers: list[Header] = []
    Attachments: list[Attachment] = []
    RawEmail: str | None = None


def from_json(data: object) -> Inbound:
    """A Postmark inbound payload as a message for the one door."""
    payload = validated(InboundPayload, data)
    envelope = _envelope(payload)
    if payload.RawEmail:
        return Inbound(payload.RawEmail.encode(), envelope, payload.MessageID)
    raw = compose_from_parsed_fields(
        _headers(payload), payload.TextBody, payload.HtmlBody or None, _uploads(payload)
    )
    return Inbound(raw, envelope, payload.MessageID)


def _envelope(payload: InboundPayload) -> Envelope:
    """MAIL FROM from ``Return-Path`` (Postmark's first header); RCPT TO from the recipient."""
    return_path = next((h.Value for h in payload.Headers if h.Name.lower() == "return-path"), None)
    sender = (return_path or "").strip().strip("<>") or payload.FromFull.Email
    recipients = [payload.OriginalRecipient] if payload.OriginalRecipient else []
    recipients = recipients or [p.Email for p in payload.ToFull]
    if not recipients:
        raise InputError(
            "no recipient: 'OriginalRecipient' and 'ToFull' are empty", "ToFull", INVALID
        )
    return Envelope(sender, tuple(recipients))


def _people(people: list[Person]) -> str:
    return ", ".join(formataddr((p.Name, p.Email)) for p in people)


def _headers(payload: InboundPayload) -> list[tuple[str, str]]:
    headers = [("From", str(Address(payload.FromFull.Name, addr_spec=payload.FromFull.Email)))]
    headers += [("To", _people(payload.ToFull))] if payload.ToFull else []
    headers += [("Cc", _people(payload.CcFull))] if payload.CcFull else []
    headers += [("Subject", payload.Subject)]
    headers += [("Date", payload.Date)] if payload.Date else []
    headers += [("Reply-To", payload.ReplyTo)] if payload.ReplyTo else []
    return headers + [
        (h.Name, h.Value) for h in payload.Headers if h.Name.lower() not in OWN_FIELDS
    ]


def _uploads(payload: InboundPayload) -> list[Upload]:
    return [_decoded(index, a) for index, a in enumerate(payload.Attachments)]


def _decoded(index: int, attachment: Attachment) -> Upload:
    field = f"Attachments.{index}.Content"
    encoded = attachment.Content if attachment.Content is not None else attachment.Data
    if encoded is None:
        raise InputError(f"{field}: missing base64 content", field, INVALID)
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{field}: not valid base64", field, INVALID) from None
    cid = attachment.ContentID.strip().strip("<>") or None
    return Upload(attachment.Name, attachment.ContentType, data, cid)
