"""Provider payloads turned into what the one door takes: raw RFC 822 bytes and an envelope.

Each module here is pure conversion (no HTTP, no database): it takes the fields a provider
posted and returns an ``Inbound``, or raises ``InputError`` naming the offending field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline import json_input
from pipeline.errors import InputError
from pipeline.records import Envelope

INVALID = 422
TOO_LARGE = 413

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Upload:
    """A file a provider posted (or that was fetched for it)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class Inbound:
    """A message ready for ``accept_raw``; ``provider_message_id`` is the provider's own id."""

    raw: bytes
    envelope: Envelope
    provider_message_id: str | None = None

    def __post_init__(self) -> None:
        """Refuse NUL in what is stored as text (the raw bytes may hold any): 422."""
        texts = [("sender", self.envelope.mail_from), ("message_id", self.provider_message_id)]
        texts += [("recipient", rcpt) for rcpt in self.envelope.rcpt_tos]
        for field, value in texts:
            if value and "\x00" in value:
                raise InputError(f"{field}: must not contain NUL characters", field, INVALID)


def check_size(raw: bytes, max_bytes: int) -> None:
    """Raises ``InputError`` 413 when the message is larger than ``max_bytes``."""
    if len(raw) > max_bytes:
        raise InputError(f"message is larger than {max_bytes} bytes", "message", TOO_LARGE)


def require(fields: Any, name: str) -> str:
    """The non-empty string field ``name``; raises ``InputError`` 422 naming it."""
    value = fields.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"missing field '{name}'", name, INVALID)
    return value


def json_field(fields: Any, name: str, expected: type, default: Any) -> Any:
    """Field ``name`` decoded from JSON and of type ``expected``; ``default`` when absent."""
    value = fields.get(name)
    if value is None or value == "":
        return default
    try:
        decoded = json_input.loads(value)
    except (TypeError, ValueError):
        raise InputError(f"field '{name}' is not valid JSON", name, INVALID) from None
    if not isinstance(decoded, expected):
        raise InputError(f"field '{name}' must be a JSON {expected.__name__}", name, INVALID)
    return decoded


def validated(model: type[M], data: Any) -> M:
    """``data`` checked against ``model``; raises ``InputError`` 422 naming the first bad field."""
    if not isinstance(data, dict):
        raise InputError("body must be a JSON object", None, INVALID)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        raise InputError(f"{field}: {first.get('msg', 'invalid value')}", field, INVALID) from None
