"""Form posts read as bytes per field: a provider's fields are not always UTF-8.

Werkzeug decodes every form field as UTF-8, replacing what does not decode. SendGrid sends
each field in the charset its ``charsets`` field names, and Mailgun's ``body-mime`` is the
message's own bytes. So the body is parsed here instead: multipart/form-data with the
standard library's MIME parser (a form-data body is a MIME multipart), urlencoded bodies
with ``urllib.parse``; both keep every field's bytes intact.

``named_fields`` reads only a few small fields (a signature) and builds nothing else, so a
signature can be checked before a forged body costs a full parse.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from email import policy
from email.message import Message
from email.parser import BytesParser
from urllib.parse import parse_qsl, unquote_to_bytes

from werkzeug.http import parse_options_header

from pipeline.errors import InputError
from pipeline.intake.providers import Upload

UNSUPPORTED = 415
URLENCODED_PAIR = re.compile(rb"[^&]+")
HEADERS_END = re.compile(rb"\r?\n\r?\n")
MAX_PART_HEADERS = 8192  # a part whose headers run longer is no field of ours
DISPOSITION = re.compile(rb"(?im)^content-disposition[ \t]*:([^\r\n]*)")
FILENAME_PARAM = re.compile(rb"(?i);\s*filename\*?\s*=")
NAME_PARAM = re.compile(rb'(?i);\s*name\s*=\s*(?:"([^"]*)"|([^;\s"]+))')


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


def named_fields(
    content_type: str, body: bytes, names: Collection[str], max_bytes: int = 1024
) -> dict[str, bytes]:
    """The first value of each text field in ``names`` (those present), found by searching
    the body for part delimiters: no other field or file is decoded or copied. Raises
    ``InputError`` 415 for a body that is not a form, 413 for a wanted field over
    ``max_bytes``."""
    if content_type.lower().startswith("application/x-www-form-urlencoded"):
        return _urlencoded_named(body, names)
    if not content_type.lower().startswith("multipart/form-data"):
        raise InputError("expected a multipart/form-data body", None, UNSUPPORTED)
    boundary = parse_options_header(content_type)[1].get("boundary")
    if not boundary:
        raise InputError("multipart/form-data without a boundary", None, UNSUPPORTED)
    try:
        delimiter = boundary.encode("latin-1")
    except UnicodeEncodeError:  # an RFC 2231 boundary no body can contain
        raise InputError("malformed multipart/form-data boundary", None, UNSUPPORTED) from None
    return _multipart_named(body, delimiter, names, max_bytes)


def _urlencoded_named(body: bytes, names: Collection[str]) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for pair in URLENCODED_PAIR.finditer(body):
        raw_name, _, raw_value = pair.group().partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8", "replace")
        if name in names and name not in found:
            found[name] = unquote_to_bytes(raw_value.replace(b"+", b" "))
            if len(found) == len(names):
                break
    return found


def _multipart_named(
    body: bytes, boundary: bytes, names: Collection[str], max_bytes: int
) -> dict[str, bytes]:
    """Each part starts after a ``--boundary`` line and ends at the next line break
    before one (RFC 2046); only the header block of each part is read."""
    delimiter = b"\n--" + boundary
    found: dict[str, bytes] = {}
    at = body.find(b"--" + boundary)
    while at != -1 and len(found) < len(names):
        start = body.find(b"\n", at) + 1
        if body.startswith(b"--", at + len(delimiter) - 1) or start == 0:
            break  # the close delimiter, or a delimiter line that never ends
        after = body.find(delimiter, start)
        end = after if after != -1 else len(body)
        head = HEADERS_END.search(body, start, min(end, start + MAX_PART_HEADERS))
        name = _field_name(body[start : head.start()]) if head else None
        if head and name in names and name not in found:
            value_end = end - 1 if body[end - 1 : end] == b"\r" else end
            if value_end - head.end() > max_bytes:  # measured before anything is copied
                raise InputError(f"form field '{name}' is too long", name, 413)
            found[name] = body[head.end() : value_end]
        at = after + 1 if after != -1 else -1
    return found


def _field_name(headers: bytes) -> str | None:
    """The ``name`` of a text field's Content-Disposition; ``None`` for a file. Three
    regular expressions per part, so a form of a million tiny parts stays cheap."""
    disposition = DISPOSITION.search(headers)
    if disposition is None or FILENAME_PARAM.search(disposition.group(1)):
        return None
    name = NAME_PARAM.search(disposition.group(1))
    return (name.group(1) or name.group(2) or b"").decode("latin-1") if name else None


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
