"""Mailgun: request signatures, and Routes ``forward()`` posts (parsed form or ``body-mime``).

Mailgun signs every request with a hex HMAC-SHA256 of ``timestamp + token`` keyed by the
account's HTTP webhook signing key (MG-SEC). A stale timestamp or a signature that does
not match is refused with 406, the one status Mailgun treats as "do not retry".
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from pipeline.errors import InputError
from pipeline.intake.providers import Inbound, Upload, json_field, require
from pipeline.intake.providers.compose import compose_from_parsed_fields
from pipeline.records import Envelope

REJECT = 406
INVALID = 422
# Mailgun's timestamps are whole seconds. Anything else ("1700000000e0", "1.7e9") would let
# the digits of ``timestamp + token`` be split differently under the same signature.
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE_FIELDS = ("timestamp", "token", "signature")


def signature_of(signing_key: str, timestamp: str, token: str) -> str:
    """The hex signature Mailgun sends for ``timestamp`` and ``token``."""
    message = f"{timestamp}{token}".encode()
    return hmac.new(signing_key.encode(), message, hashlib.sha256).hexdigest()


def signature_fields(fields: Mapping[str, object]) -> tuple[str, str, str]:
    """``timestamp``, ``token`` and ``signature``; raises ``InputError`` 406 when one is missing."""
    values = []
    for name in SIGNATURE_FIELDS:
        value = fields.get(name)
        if isinstance(value, int) and name == "timestamp":
            value = str(value)
        if not isinstance(value, str) or not value:
            raise InputError(f"missing Mailgun signature field '{name}'", name, REJECT)
        values.append(value)
    return values[0], values[1], values[2]


def is_signed_by(signing_key: str, timestamp: str, token: str, signature: str) -> bool:
    if not signature.isascii():  # never a hex digest, and compare_digest would raise
        return False
    return hmac.compare_digest(signature.lower(), signature_of(signing_key, timestamp, token))


def check_fresh(timestamp: str, now: float, max_age: int) -> None:
    """Raises ``InputError`` 406 unless ``timestamp`` is whole seconds within ``max_age`` of now."""
    if not TIMESTAMP.fullmatch(timestamp):
        raise InputError("Mailgun timestamp must be a whole number of seconds", "timestamp", REJECT)
    if abs(now - int(timestamp)) > max_age:
        raise InputError("Mailgun timestamp is too old (or in the future)", "timestamp", REJECT)


def verify(signing_key: str, fields: Mapping[str, object], now: float, max_age: int) -> str:
    """Check the signature and its freshness; return the signature, the replay key (one
    signature is one signed string, however its timestamp and token are cut)."""
    timestamp, token, signature = signature_fields(fields)
    if not is_signed_by(signing_key, timestamp, token, signature):
        raise InputError("Mailgun signature does not match", "signature", REJECT)
    check_fresh(timestamp, now, max_age)
    return replay_key(signature)


def replay_key(signature: str) -> str:
    """The signature as the replay cache keys it (hex compares case-insensitively)."""
    return signature.lower()


def text_fields(fields: Mapping[str, bytes]) -> dict[str, str]:
    """Mailgun's form fields as text (Mailgun posts UTF-8)."""
    return {name: value.decode("utf-8", "replace") for name, value in fields.items()}


def from_form(
    form: Mapping[str, str], files: Mapping[str, Upload], body_mime: bytes | None = None
) -> Inbound:
    """A Routes post as a message for the one door.

    ``body_mime`` is the raw form's message, byte for byte; without it the parsed fields
    (``message-headers``, ``body-plain``, ``body-html``, ``attachment-N``) are rebuilt.
    """
    recipient = require(form, "recipient")
    envelope = Envelope(form.get("sender") or None, (recipient,))
    if body_mime:
        return Inbound(body_mime, envelope)
    headers = _headers(form)
    raw = compose_from_parsed_fields(
        headers, form.get("body-plain"), form.get("body-html") or None, _uploads(form, files)
    )
    return Inbound(raw, envelope)


def _headers(form: Mapping[str, str]) -> list[tuple[str, str]]:
    """``message-headers``: a JSON list of ``[name, value]`` pairs in their original order."""
    if not form.get("message-headers"):
        raise InputError(
            "missing field 'message-headers' (or 'body-mime')", "message-headers", INVALID
        )
    pairs = json_field(form, "message-headers", list, [])
    if not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p) for p in pairs
    ):
        raise InputError(
            "field 'message-headers' must be a list of [name, value] strings",
            "message-headers",
            INVALID,
        )
    return [(name, value) for name, value in pairs]


def _uploads(form: Mapping[str, str], files: Mapping[str, Upload]) -> list[Upload]:
    """``attachment-1`` … ``attachment-N``, with Content-IDs from ``content-id-map``."""
    count_text = form.get("attachment-count") or "0"
    if not count_text.isdigit():
        raise InputError("field 'attachment-count' must be a number", "attachment-count", INVALID)
    cids = {name: cid.strip("<>") for cid, name in _content_ids(form).items()}
    uploads = []
    for index in range(1, int(count_text) + 1):
        name = f"attachment-{index}"
        if name not in files:
            raise InputError(f"missing file '{name}'", name, INVALID)
        upload = files[name]
        uploads.append(Upload(upload.filename, upload.content_type, upload.data, cids.get(name)))
    return uploads


def _content_ids(form: Mapping[str, str]) -> dict[str, str]:
    mapping = json_field(form, "content-id-map", dict, {})
    if not all(isinstance(v, str) for v in mapping.values()):
        raise InputError(
            "field 'content-id-map' must map Content-IDs to names", "content-id-map", INVALID
        )
    return mapping
