"""multipart/form-data read as bytes per field, for providers that pick each field's charset.

Werkzeug decodes every form field as UTF-8; SendGrid sends each in the charset its
``charsets`` field names. The body is parsed with the standard library's MIME parser
instead (a form-data body is a MIME multipart), which keeps every field's bytes intact.
"""

from __future__ import annotations

from email import policy
from email.message import Message
from email.parser import BytesParser

from pipeline.errors import InputError
from pipeline.intake.providers import Upload

UNSUPPORTED = 415


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
