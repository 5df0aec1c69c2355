"""Delivery reports from external mail systems (``POST /mail-report``) as delivery events.

Two forms: an RFC 3464 report (``multipart/report; report-type=delivery-status``), read by
``pipeline.mail.bounces`` into one event per recipient block, or a JSON report
``{message_id, recipient, action, status, diagnostic}``. Both map an action to an event by
the same rule (``DsnRecipient.event``). Reports carry no id of their own, so the event id
is a hash of what they say: the same report posted twice is stored once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pipeline.errors import InputError
from pipeline.intake.providers import validated
from pipeline.mail import bounces, mime, part_cap
from pipeline.store.deliveries import DeliveryEvent

INVALID = 422
PROVIDER = "mail-report"


class JsonReport(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message_id: str
    recipient: str
    action: Literal["delivered", "failed", "delayed", "relayed", "expanded"]
    status: str | None = None
    diagnostic: str | None = None


def from_json(data: object) -> list[DeliveryEvent]:
    report = validated(JsonReport, data)
    said = bounces.DsnRecipient(
        recipient=report.recipient,
        action=report.action,
        status=report.status,
        diagnostic=report.diagnostic,
        original_message_id=report.message_id,
        reporting_mta=None,
    )
    return [to_event(said)]


def from_dsn(raw: bytes) -> list[DeliveryEvent]:
    """One event per recipient of an RFC 3464 report (its first ``mime.MAX_PARTS`` parts);
    raises ``InputError`` 422 otherwise."""
    recipients = bounces.parse_report(mime.parse_bytes(part_cap.cap_parts(raw, mime.MAX_PARTS).raw))
    if not recipients:
        raise InputError("not a delivery report: no message/delivery-status part", "body", INVALID)
    named = [r for r in recipients if r.recipient]
    if not named:
        raise InputError("delivery report names no recipient", "body", INVALID)
    return [to_event(r) for r in named]


def to_event(said: bounces.DsnRecipient) -> DeliveryEvent:
    payload = asdict(said)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
    return DeliveryEvent(
        event=said.event,
        provider=PROVIDER,
        provider_event_id=digest,
        message_id=said.original_message_id,
        recipient=said.recipient,
        status_code=said.status,
        diagnostic=said.diagnostic,
        payload=payload,
    )
