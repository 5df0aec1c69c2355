"""Delivery reports from external mail systems (``POST /mail-report``) as delivery events.

Two forms: an RFC 3464 report (``multipart/report; report-type=delivery-status``), with one
event per recipient block, or a JSON report ``{message_id, recipient, status, action,
diagnostic}``. Reports carry no id of their own, so the event id is a hash of what they say:
the same report posted twice is stored once.
"""

from __future__ import annotations

import hashlib
import json
from email.message import Message
from email.parser import HeaderParser
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pipeline.errors import InputError
from pipeline.intake.providers import validated
from pipeline.mail import mime
from pipeline.store.deliveries import DeliveryEvent

INVALID = 422
PROVIDER = "mail-report"
# RFC 3464 §2.3.3 actions.
EVENTS = {
    "delivered": "delivered",
    "failed": "failed_permanent",
    "delayed": "failed_temporary",
    "relayed": "report",
    "expanded": "report",
}


class JsonReport(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message_id: str
    recipient: str
    action: Literal["delivered", "failed", "delayed", "relayed", "expanded"]
    status: str | None = None
    diagnostic: str | None = None


def from_json(data: object) -> list[DeliveryEvent]:
    report = validated(JsonReport, data)
    return [
        _event(report.message_id, report.recipient, report.action, report.status, report.diagnostic)
    ]


def from_dsn(raw: bytes) -> list[DeliveryEvent]:
    """One event per recipient of an RFC 3464 report; raises ``InputError`` 422 otherwise."""
    msg = mime.parse_bytes(raw)
    status_part = _find(msg, "message/delivery-status")
    if status_part is None:
        raise InputError("not a delivery report: no message/delivery-status part", "body", INVALID)
    blocks = [b for b in status_part.get_payload() if isinstance(b, Message)]
    message_id = _original_message_id(msg)
    events = [_from_block(message_id, block) for block in blocks[1:]]  # [0]: per-message fields
    events = [e for e in events if e is not None]
    if not events:
        raise InputError("delivery report names no recipient", "body", INVALID)
    return events


def _find(msg: Message, content_type: str) -> Message | None:
    return next((p for p in msg.walk() if p.get_content_type() == content_type), None)


def _original_message_id(msg: Message) -> str | None:
    """Message-ID of the returned message (``message/rfc822`` or ``text/rfc822-headers``)."""
    returned = _find(msg, "message/rfc822")
    if returned is not None and isinstance(returned.get_payload(), list):
        return _first_id(returned.get_payload()[0].get("Message-ID"))
    headers = _find(msg, "text/rfc822-headers")
    if headers is not None:
        text = (headers.get_payload(decode=True) or b"").decode("utf-8", "replace")
        return _first_id(HeaderParser().parsestr(text).get("Message-ID"))
    return None


def _first_id(value: object) -> str | None:
    ids = mime.message_ids(str(value)) if value else []
    return ids[0] if ids else None


def _field(block: Message, name: str) -> str | None:
    value = block.get(name)
    if value is None:
        return None
    text = " ".join(str(value).split())
    # "rfc822; user@example.com" / "smtp; 550 5.1.1 …": drop the type (RFC 3464 §2.3).
    return text.split(";", 1)[1].strip() if ";" in text else text


def _from_block(message_id: str | None, block: Message) -> DeliveryEvent | None:
    recipient = _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
    action = (_field(block, "Action") or "").lower()
    if not recipient or action not in EVENTS:
        return None
    return _event(
        message_id, recipient, action, _field(block, "Status"), _field(block, "Diagnostic-Code")
    )


def _event(
    message_id: str | None, recipient: str, action: str, status: str | None, diagnostic: str | None
) -> DeliveryEvent:
    said = {
        "message_id": message_id,
        "recipient": recipient,
        "action": action,
        "status": status,
        "diagnostic": diagnostic,
    }
    digest = hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()[:32]
    return DeliveryEvent(
        event=EVENTS[action],
        provider=PROVIDER,
        provider_event_id=digest,
        message_id=message_id,
        recipient=recipient,
        status_code=status,
        diagnostic=diagnostic,
        payload=said,
    )
