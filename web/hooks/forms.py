"""Form posts read as bytes per field: a provider's fields are not always UTF-8.

Werkzeug decodes every form field as UTF-8, replacing what does not decode. SendGrid sends
each field in the charset its ``charsets`` field names, and Mailgun's ``body-mime`` is the
message's own bytes. So the body is parsed here instead: multipart/form-data with the
standard library's MIME parser (a form-data body is a MIME multipart), urlencoded bodies
with ``urllib.parse``; both keep every field's bytes intact.
"""

from __future__ import annotations

from email import policy
from email.message import Message
from email.parser import BytesParser
from urllib.parse import parse_qsl

from pipeline.errors import InputError
from pipeline.intake.providers import Upload

UNSUPPORTED = 415


def form_fields(content_type: str, body: bytes) -> tuple[dict[str, bytes], dict[str, Upload]]:
    """Fields and files of a form post of either encoding; raises ``InputError`` 415."""
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        # Latin-1 maps each byte to one character and back: the fields' bytes stay exact
        # (``parse_qsl`` on bytes fails on any percent-escaped non-ASCII byte).
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
        return {
            name.encode("latin-1").decode("utf-8", "replace"): value.encode("latin-1")
            for name, value in pairs
        }, {}
    return multipart_fields(content_type, body)


def multipart_fields(content_type: str, body: bytes) -> tuple[dict[str, bytes], dict[str, Upload]]:
    """Text fields and files of a ``multipart/form-data`` body; raises ``InputError`` 415."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise InputError("expected a multipart/form-data body", None, UNSUPPORTED)
    document = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    parsed = BytesParser(policy=policy.compat32).parsebytes(document)
    if not parsed.is_multipart():
        raise InputError("malformed multipart/form-data body", None, UNSUPPORTED)
    fields: dict[str, bytes] = {}
    files: dict[str, Upload] = {}
    for part in parsed.get_payload():
        _collect(part, fields, files)
    return fields, files


def _collect(part: Message, fields: dict[str, bytes], files: dict[str, Upload]) -> None:
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str):
        return
    data = part.get_payload(decode=True) or b""
    filename = part.get_filename()
    if filename is None:
        fields.setdefault(name, data)
        return
    files[name] = Upload(filename, part.get_content_type(), data)
