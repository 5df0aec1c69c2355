"""Recover a multipart message whose boundary is missing or does not match its body.

Some mailers drop the ``boundary=`` parameter, or declare one boundary and use another.
The standard library then keeps the whole body as one string. When the body itself shows
the delimiter it uses (a ``--token`` line that occurs again), we re-parse with it.
"""

from __future__ import annotations

import email
import re
from collections import Counter
from email.message import EmailMessage

from pipeline.mail.reading import reading_policy

DELIMITER_LINE = re.compile(rb"^--([!-~]{1,70}?)(--)?[ \t]*\r?$", re.MULTILINE)
HEADER_END = re.compile(rb"\r?\n\r?\n")
CONTENT_TYPE_HEADER = re.compile(
    rb"^content-type:.*(?:\r?\n[ \t].*)*", re.IGNORECASE | re.MULTILINE
)


def guess_boundary(body: bytes) -> str | None:
    """The delimiter a body uses: the first ``--token`` line seen at least twice (or closed)."""
    counts: Counter[bytes] = Counter()
    closed: set[bytes] = set()
    for match in DELIMITER_LINE.finditer(body):
        counts[match.group(1)] += 1
        if match.group(2):
            closed.add(match.group(1))
    for token, count in counts.items():
        if count >= 2 or (token in closed and count >= 1):
            try:
                return token.decode("ascii")
            except UnicodeDecodeError:
                continue
    return None


def is_broken_multipart(msg: EmailMessage) -> bool:
    """Declared multipart, but the parser could not split it into parts."""
    return msg.get_content_maintype() == "multipart" and not msg.is_multipart()


def repair(raw: bytes, msg: EmailMessage) -> EmailMessage | None:
    """``msg`` re-parsed with the boundary its body uses, or ``None`` if none is visible."""
    if not is_broken_multipart(msg):
        return None
    split = HEADER_END.search(raw)
    if split is None:
        return None
    head, body = raw[: split.start()], raw[split.start() :]
    boundary = guess_boundary(body)
    if boundary is None:
        return None
    subtype = msg.get_content_subtype().encode("ascii", "replace")
    header = b"Content-Type: multipart/" + subtype + b'; boundary="' + boundary.encode() + b'"'
    head, replaced = CONTENT_TYPE_HEADER.subn(lambda _: header, head, count=1)
    if not replaced:
        return None
    try:
        fixed = email.message_from_bytes(head + body, policy=reading_policy())
    except (ValueError, TypeError, LookupError, IndexError, AttributeError):
        return None
    return fixed if fixed.is_multipart() else None  # type: ignore[return-value]
