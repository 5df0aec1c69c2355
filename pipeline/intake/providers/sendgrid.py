"""SendGrid Inbound Parse: the raw mode (``email``) and the default parsed mode.

Every text field arrives in the charset ``charsets`` names for it (SG-PARSE), so fields
are handed over as bytes and decoded here, falling back to UTF-8 and then Latin-1 when a
charset is unknown or wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.parser import HeaderParser
from email.policy import compat32

from pipeline.errors import InputError
from pipeline.intake.providers import Inbound, Upload, json_field
from pipeline.intake.providers.compose import compose_from_parsed_fields
from pipeline.records import Envelope

INVALID = 422
FALLBACK_CHARSETS = ("utf-8", "latin-1")


def decode(data: bytes, charset: str | None) -> str:
    """``data`` in ``charset``, else UTF-8, else Latin-1 (which never fails)."""
    for candidate in (charset, *FALLBACK_CHARSETS):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("latin-1")


def from_fields(fields: Mapping[str, bytes], files: Mapping[str, Upload]) -> Inbound:
    """An Inbound Parse post as a message for the one door."""
    charsets = _charsets(fields)
    text = {
        name: decode(value, charsets.get(name)) for name, value in fields.items() if name != "email"
    }
    envelope = _envelope(text)
    if fields.get("email"):
        return Inbound(fields["email"], envelope)
    if "headers" not in text:
        raise InputError("missing field 'headers' (or 'email' in raw mode)", "headers", INVALID)
    headers = _headers(text)
    raw = compose_from_parsed_fields(
        headers, text.get("text"), text.get("html") or None, _uploads(text, files)
    )
    return Inbound(raw, envelope)


def _charsets(fields: Mapping[str, bytes]) -> dict[str, str]:
    raw = fields.get("charsets")
    mapping = json_field({"charsets": raw.decode("latin-1") if raw else None}, "charsets", dict, {})
    return {k: v for k, v in mapping.items() if isinstance(v, str)}


def _envelope(text: Mapping[str, str]) -> Envelope:
    """``envelope`` = ``{"to": [...], "from": "..."}`` (SMTP MAIL FROM and RCPT TO)."""
    if not text.get("envelope"):
        raise InputError("missing field 'envelope'", "envelope", INVALID)
    data = json_field(text, "envelope", dict, {})
    rcpts, sender = data.get("to"), data.get("from")
    if not isinstance(rcpts, list) or not rcpts or not all(isinstance(r, str) for r in rcpts):
        raise InputError("field 'envelope' must list recipients under 'to'", "envelope", INVALID)
    if sender is not None and not isinstance(sender, str):
        raise InputError("field 'envelope' has a non-string 'from'", "envelope", INVALID)
    return Envelope(sender or None, tuple(rcpts))


def _headers(text: Mapping[str, str]) -> list[tuple[str, str]]:
    """The original header block, with ``subject`` swapped for its charset-decoded field."""
    parsed = HeaderParser(policy=compat32).parsestr(text["headers"])
    headers = [(name, str(value)) for name, value in parsed.items()]
    if "subject" in text:
        headers = [(n, v) for n, v in headers if n.lower() != "subject"]
        headers.append(("Subject", text["subject"]))
    return headers


def _uploads(text: Mapping[str, str], files: Mapping[str, Upload]) -> list[Upload]:
    """``attachment1`` … ``attachmentN`` described by ``attachment-info`` and ``content-ids``."""
    count_text = text.get("attachments") or "0"
    if not (count_text.isascii() and count_text.isdigit()):
        raise InputError("field 'attachments' must be a number", "attachments", INVALID)
    info = json_field(text, "attachment-info", dict, {})
    cids = {name: cid for cid, name in json_field(text, "content-ids", dict, {}).items()}
    uploads = []
    for index in range(1, int(count_text) + 1):
        name = f"attachment{index}"
        if name not in files:
            raise InputError(f"missing file '{name}'", name, INVALID)
        uploads.append(_upload(files[name], info.get(name), cids.get(name)))
    return uploads


def _upload(posted: Upload, info: object, cid: str | None) -> Upload:
    meta = info if isinstance(info, dict) else {}
    filename = str(meta.get("filename") or posted.filename)
    # SG-PY: Windows paths sneak into filenames ("\\share\\mail\\forwarded.msg").
    filename = filename.replace("\\", "/").rsplit("/", 1)[-1] or posted.filename
    content_type = str(meta.get("type") or posted.content_type)
    content_id = meta.get("content-id") or cid
    return Upload(filename, content_type, posted.data, str(content_id) if content_id else None)
