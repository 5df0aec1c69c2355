"""Walk a MIME tree and sort its leaves into bodies, attachments, nested mail and TNEF.

Unlike ``EmailMessage.get_body`` this never trusts the tree to be well formed: a
multipart part whose boundary was lost is read as text, a forwarded ``message/rfc822``
is one leaf (its own attachments stay inside it), and depth is bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

from pipeline.mail import tnef

MAX_DEPTH = 60
MIME_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")


class TooDeep(Exception):
    """The MIME tree nests deeper than any real mail does."""


@dataclass(frozen=True)
class Leaf:
    """A leaf part with what we read of its headers, once: ``policy.default`` re-parses a
    header on every access, which made Content-Type parsing most of a parse's cost."""

    part: Message
    kind: str  # plain | html | nested | tnef | attachment
    parent: str  # content type of the enclosing multipart ("" at the top)
    content_type: str
    filename: str | None
    disposition: str | None


def safe_filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except (ValueError, TypeError, AttributeError, LookupError):
        return None


def disposition(part: Message) -> str | None:
    try:
        return part.get_content_disposition()
    except (ValueError, TypeError, AttributeError):
        return None


def content_type_of(part: Message) -> str:
    """The part's type, or ``application/octet-stream`` when it is not a valid token
    (bytes such as NUL in a type would not even be storable)."""
    value = part.get_content_type()
    return value if MIME_TYPE.match(value) else "application/octet-stream"


def classify(part: Message, content_type: str, filename: str | None, placement: str | None) -> str:
    """What a leaf is for: a body (``plain``/``html``), ``nested`` mail, ``tnef`` or an
    ``attachment``."""
    if content_type == "message/rfc822" and isinstance(part.get_payload(), list):
        return "nested"
    if tnef.is_tnef(content_type, filename):
        return "tnef"
    if filename or placement == "attachment":
        return "attachment"
    if content_type == "text/plain" or content_type.startswith("multipart/"):
        return "plain"  # a multipart whose boundary was lost is text to us
    if content_type == "text/html":
        return "html"
    return "attachment"


def leaves(msg: Message, parent: str = "", depth: int = 0) -> Iterator[Leaf]:
    """Every leaf of ``msg`` in order; raises ``TooDeep`` past ``MAX_DEPTH`` levels."""
    if depth > MAX_DEPTH:
        raise TooDeep(f"MIME parts nested more than {MAX_DEPTH} levels")
    content_type = content_type_of(msg)
    if content_type.startswith("multipart/") and msg.is_multipart():
        for child in msg.get_payload():
            if isinstance(child, Message):
                yield from leaves(child, content_type, depth + 1)
        return
    filename, placement = safe_filename(msg), disposition(msg)
    kind = classify(msg, content_type, filename, placement)
    yield Leaf(msg, kind, parent, content_type, filename, placement)
