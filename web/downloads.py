"""Serve stored bytes as safe downloads (RFC 6266 ``filename*``, ``nosniff``)."""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response

from pipeline.db import Connection
from pipeline.store import blobs

NEVER_INLINE = {
    "text/html",
    "image/svg+xml",
    "application/xhtml+xml",
    "text/xml",
    "application/xml",
    "application/javascript",
    "text/javascript",
}


def content_disposition(filename: str, inline: bool = False) -> str:
    """An ASCII fallback plus the exact UTF-8 name, with no way to inject a header."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    exact = quote(filename, safe="")
    return f"{kind}; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{exact}"


MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


def safe_content_type(mime_type: str) -> str:
    """The stored type when it is a plain ``type/subtype`` a browser will not render as a
    page; ``application/octet-stream`` for HTML, SVG, scripts and anything malformed."""
    value = (mime_type or "").strip().lower()
    if value in NEVER_INLINE or not MIME_TYPE.match(value):
        return "application/octet-stream"
    return value


def blob_response(conn: Connection, digest: str, mime_type: str, filename: str) -> Response:
    data = blobs.get(conn, digest)
    response = Response(data, content_type=safe_content_type(mime_type))
    response.headers["Content-Length"] = str(len(data))
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
