"""The dedupe key of a message: its Message-ID, or lacking one, a hash of its raw bytes.

The hash leaves out the trace fields that each hop prepends (RFC 5321 §4.4: ``Received``,
``Return-Path``; and the ``Delivered-To``/``X-Original-To``/ARC lines mail stores add), so
the same mail taken by SMTP (where Intake prepends its own ``Received``) and from an IMAP
folder (where the delivering server prepended others) hashes the same.
"""

from __future__ import annotations

import hashlib
import re

TRACE_FIELDS = frozenset(
    {
        "received",
        "return-path",
        "delivered-to",
        "x-original-to",
        "x-received",
        "received-spf",
        "authentication-results",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "x-envelope-from",
        "x-envelope-to",
    }
)
FIELD_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")
MAX_ID_KEY = 200


def strip_trace_fields(raw: bytes) -> bytes:
    """``raw`` without the trace fields at its top (continuation lines included)."""
    lines = raw.splitlines(keepends=True)
    index, skipping = 0, False
    while index < len(lines):
        line = lines[index]
        if skipping and line[:1] in (b" ", b"\t"):
            index += 1
            continue
        name = FIELD_NAME.match(line)
        if name is None or name.group(1).decode("ascii").lower() not in TRACE_FIELDS:
            break
        skipping = True
        index += 1
    return b"".join(lines[index:])


def dedupe_key(message_id: str | None, raw: bytes | None) -> tuple[str, str]:
    """``(key, basis)``: ``mid:<Message-ID>`` (hashed when very long, for the index) or
    ``raw:<sha256>`` of the trace-stripped bytes when there is no Message-ID."""
    if message_id:
        if len(message_id) <= MAX_ID_KEY:
            return f"mid:{message_id}", "message_id"
        return f"mid-sha256:{hashlib.sha256(message_id.encode()).hexdigest()}", "message_id"
    digest = hashlib.sha256(strip_trace_fields(raw or b"")).hexdigest()
    return f"raw:{digest}", "raw_sha256"
