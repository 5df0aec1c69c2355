"""Rebuild an RFC 822 message from a provider's parsed fields: headers, bodies and files.

Providers that parse mail for us (Mailgun's parsed form, SendGrid's default mode, Postmark)
hand over the original headers plus decoded bodies and files. The original MIME structure
is gone, so the body headers (``Content-Type``…) are dropped and a fresh structure is built:
text and HTML as alternatives, inline parts (those with a Content-ID) related to the HTML,
everything else attached.
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterable, Sequence
from email import policy
from email.errors import HeaderParseError
from email.message import EmailMessage

from pipeline.intake.providers import Upload

BODY_HEADERS = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "mime-version",
        "content-disposition",
        "content-id",
        "content-description",
        "content-length",
    }
)
FOLD = re.compile(r"\r?\n(?=[ \t])")
DEFAULT_TYPE = "application/octet-stream"


def compose_from_parsed_fields(
    headers: Iterable[tuple[str, str]],
    text: str | None,
    html: str | None,
    uploads: Sequence[Upload] = (),
) -> bytes:
    """The message as CRLF bytes. Repeated single-instance headers keep their first value."""
    msg = EmailMessage(policy=policy.default)
    for name, value in headers:
        add_header(msg, name, value)
    _set_bodies(msg, text, html, has_files=bool(uploads))
    related = msg.get_body(("html",)) if html is not None else None
    for upload in uploads:
        if upload.content_id and related is not None:
            _add_inline(related, upload)
        else:
            _attach(msg, upload)
    return msg.as_bytes(policy=policy.SMTP)


def add_header(msg: EmailMessage, name: str, value: str) -> None:
    """Add one header unless it describes the old body or cannot be represented."""
    name = name.strip()
    if not name or name.lower() in BODY_HEADERS:
        return
    unfolded = FOLD.sub("", value).replace("\r", " ").replace("\n", " ").strip()
    try:
        # A value the stored bytes cannot carry (a non-ASCII Message-ID) fails here, not
        # when the whole message is serialized.
        policy.SMTP.fold_binary(name, msg.policy.header_factory(name, unfolded))
        msg[name] = unfolded
    except (ValueError, TypeError, IndexError, HeaderParseError):
        # A second Subject/Message-ID/From… (RFC 5322 §3.6 allows one) or an unparseable
        # value: the first one wins, as a reader would see it.
        return


def _set_bodies(msg: EmailMessage, text: str | None, html: str | None, has_files: bool) -> None:
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    elif has_files:
        msg.make_mixed()
    else:
        msg.set_content("")


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = (content_type or DEFAULT_TYPE).split(";")[0].strip().partition("/")
    if not maintype or not subtype:
        return "application", "octet-stream"
    return maintype.lower(), subtype.lower()


def _add_inline(html_part: EmailMessage, upload: Upload) -> None:
    maintype, subtype = _split_type(upload.content_type)
    html_part.add_related(
        upload.data,
        maintype,
        subtype,
        cid=f"<{upload.content_id}>",
        filename=upload.filename,
        disposition="inline",
    )


def _attach(msg: EmailMessage, upload: Upload) -> None:
    maintype, subtype = _split_type(upload.content_type)
    cid = f"<{upload.content_id}>" if upload.content_id else None
    disposition = "inline" if cid else "attachment"
    if (maintype, subtype) == ("message", "rfc822"):
        inner = email.message_from_bytes(upload.data, policy=policy.default)
        msg.add_attachment(inner, filename=upload.filename, cid=cid, disposition=disposition)
        return
    msg.add_attachment(
        upload.data, maintype, subtype, filename=upload.filename, cid=cid, disposition=disposition
    )
