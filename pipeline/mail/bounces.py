"""Delivery status notifications (RFC 3464) read into one record per recipient.

A DSN is ``multipart/report; report-type=delivery-status`` whose ``message/delivery-status``
part holds one block of per-message fields, then one block per recipient (``Action``,
``Status``, ``Final-Recipient``, ``Diagnostic-Code``). The returned original message, or
just its headers, carries the Message-ID of the mail that bounced: ours, when we sent it.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email import policy
from email.message import Message

from pipeline.mail.charsets import clean
from pipeline.mail.headers import message_ids

STATUS_CODE = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


@dataclass(frozen=True)
class DsnRecipient:
    recipient: str | None
    action: str
    status: str | None
    diagnostic: str | None
    original_message_id: str | None
    reporting_mta: str | None

    @property
    def event(self) -> str:
        """The ``delivery_events.event`` this report stands for."""
        if self.action in {"delivered", "relayed", "expanded"}:
            return "delivered"
        if self.action == "delayed" or (self.status or "").startswith("4"):
            return "failed_temporary"
        return "failed_permanent"


def report_type(content_type: str | None) -> str | None:
    """``report-type`` of a ``multipart/report`` Content-Type value, else ``None``."""
    if not content_type or not content_type.lower().lstrip().startswith("multipart/report"):
        return None
    match = re.search(r"report-type\s*=\s*\"?([\w.-]+)", content_type, re.IGNORECASE)
    return match.group(1).lower() if match else ""


def _field(block: Message, name: str) -> str | None:
    value = block.get(name)
    return clean(" ".join(str(value).split())) if value is not None else None


def _typed_value(value: str | None) -> str | None:
    """``rfc822; user@example.com`` → ``user@example.com`` (RFC 3464 §2.3.2 address-type)."""
    if not value:
        return None
    return value.split(";", 1)[-1].strip().strip("<>") or None


def _status_blocks(report: Message) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [block for block in payload if isinstance(block, Message)]
    return []


def original_message_id(report: Message) -> str | None:
    """The Message-ID of the mail a report is about, from its returned copy or headers."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind in {"message/rfc822", "message/rfc822-headers"} and part.is_multipart():
            inner = part.get_payload()[0]
        elif kind == "text/rfc822-headers":
            inner = email.message_from_string(
                str(part.get_payload(decode=False)), policy=policy.default
            )
        else:
            continue
        found = message_ids(str(inner.get("Message-ID") or ""))
        if found:
            return found[0]
    return None


def _recipient(block: Message, original: str | None, mta: str | None) -> DsnRecipient:
    status = _field(block, "Status")
    code = STATUS_CODE.search(status or "")
    return DsnRecipient(
        recipient=_typed_value(
            _field(block, "Final-Recipient") or _field(block, "Original-Recipient")
        ),
        action=(_field(block, "Action") or "failed").lower(),
        status=code.group(0) if code else status,
        diagnostic=_typed_value(_field(block, "Diagnostic-Code")),
        original_message_id=original,
        reporting_mta=mta,
    )


def parse_report(report: Message) -> list[DsnRecipient]:
    """One ``DsnRecipient`` per recipient block of a delivery-status report; ``[]`` if none."""
    blocks = _status_blocks(report)
    if not blocks:
        return []
    original = original_message_id(report)
    mta = _typed_value(_field(blocks[0], "Reporting-MTA"))
    recipients = [
        b for b in blocks if b.get("Action") is not None or b.get("Final-Recipient") is not None
    ]
    return [_recipient(block, original, mta) for block in recipients]


@dataclass(frozen=True)
class TextBounce:
    """What a free-form bounce (qmail, old Exchange) gives away: our mail it returns."""

    original_message_id: str
    status: str | None
    diagnostic: str | None

    @property
    def event(self) -> str:
        return "failed_temporary" if (self.status or "").startswith("4") else "failed_permanent"


def find_text_bounce(raw: bytes, domain: str) -> TextBounce | None:
    """Our own Message-ID quoted in a bounce that is not RFC 3464, with the first
    enhanced status code and its line; ``None`` when none of our mail is quoted."""
    if not domain:
        return None
    quoted = re.search(
        rb"^\s*>?\s*Message-ID:\s*(<[^<>\s]+@" + re.escape(domain.encode()) + rb">)",
        raw,
        re.IGNORECASE | re.MULTILINE,
    )
    if quoted is None:
        return None
    text = raw.decode("utf-8", "replace")
    code = STATUS_CODE.search(text)
    line = None
    if code is not None:
        start = text.rfind("\n", 0, code.start()) + 1
        end = text.find("\n", code.end())
        line = clean(" ".join(text[start : end if end >= 0 else None].split()))[:300]
    return TextBounce(
        quoted.group(1).decode("ascii", "replace"), code.group(0) if code else None, line
    )
