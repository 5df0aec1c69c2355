"""Mailgun event webhooks (``{"signature": {...}, "event-data": {...}}``) as delivery events.

Each ``000_…`` path carries one kind of event; the payload's ``event`` (and, for failures,
``severity``) must agree with it. Mailgun's ``message-id`` header has no angle brackets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline.errors import InputError
from pipeline.store.deliveries import DeliveryEvent

INVALID = 422
PROVIDER = "mailgun"

# path → (stored event, Mailgun's event name, severity for failures)
PATHS: dict[str, tuple[str, str, str | None]] = {
    "mg-delivered": ("delivered", "delivered", None),
    "mg-opened": ("opened", "opened", None),
    "mg-clicked": ("clicked", "clicked", None),
    "mg-complained": ("complained", "complained", None),
    "mg-permanent-fail": ("failed_permanent", "failed", "permanent"),
    "mg-temporary-fail": ("failed_temporary", "failed", "temporary"),
}


def split(body: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``signature`` and ``event-data`` objects; raises ``InputError`` 422."""
    if not isinstance(body, dict):
        raise InputError("body must be a JSON object", None, INVALID)
    for name in ("signature", "event-data"):
        if not isinstance(body.get(name), dict):
            raise InputError(f"'{name}' must be a JSON object", name, INVALID)
    return body["signature"], body["event-data"]


def message_id_of(data: dict[str, Any]) -> str:
    """The sent mail's Message-ID, from ``event-data.message.headers.message-id``."""
    message = data.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    value = headers.get("message-id") if isinstance(headers, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise InputError(
            "missing 'event-data.message.headers.message-id'",
            "event-data.message.headers.message-id",
            INVALID,
        )
    return value.strip()


def to_event(path: str, data: dict[str, Any], token: str) -> DeliveryEvent:
    """The delivery event for ``path``; the event id is ``event-data.id`` (else the token)."""
    stored, expected, severity = PATHS[path]
    if data.get("event") != expected:
        raise InputError(f"event-data.event must be '{expected}' here", "event-data.event", INVALID)
    if severity and data.get("severity") not in (severity, None):
        raise InputError(
            f"event-data.severity must be '{severity}' here", "event-data.severity", INVALID
        )
    status = data.get("delivery-status") if isinstance(data.get("delivery-status"), dict) else {}
    event_id = data.get("id") if isinstance(data.get("id"), str) and data.get("id") else token
    return DeliveryEvent(
        event=stored,
        provider=PROVIDER,
        provider_event_id=event_id,
        message_id=message_id_of(data),
        recipient=_text(data.get("recipient")),
        status_code=_text(status.get("code")),
        diagnostic=_text(status.get("message") or status.get("description") or data.get("reason")),
        occurred_at=_when(data.get("timestamp")),
        payload=data,
    )


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _when(stamp: object) -> datetime | None:
    """The event's time; ``None`` when absent or beyond what a datetime holds."""
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    try:
        return datetime.fromtimestamp(stamp, UTC)
    except (OverflowError, OSError, ValueError):
        return None
