"""Compose an outbound mail as RFC 5322 bytes with the standard library's ``EmailMessage``.

The bytes are composed once, when the mail is queued, and stored as a blob: every retry
sends exactly the same message, and the record shows what left.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from pipeline.mail.compose import attach

# RFC 3834 §5: mail sent by a program in answer to a message says so.
AUTO_SUBMITTED = {"auto_reply": "auto-replied", "notification": "auto-generated"}


@dataclass(frozen=True)
class OutboundAttachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class Headers:
    """The envelope-level headers Intake decides (as opposed to the caller's content)."""

    message_id: str
    from_email: str
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)


def new_message_id(domain: str) -> str:
    """An Intake Message-ID: 128 random bits at ``INTAKE_MESSAGE_ID_DOMAIN``, which the filter
    recognises when our own mail comes back."""
    return f"<{secrets.token_hex(16)}@{domain}>"


def compose_outbound_mail(
    headers: Headers,
    subject: str,
    text: str | None,
    html: str | None,
    attachments: tuple[OutboundAttachment, ...] = (),
) -> bytes:
    """The whole message: text and/or HTML (alternative when both), then attachments."""
    message = EmailMessage()
    _set_headers(message, headers, subject)
    if text is not None or html is None:
        message.set_content(text or "")
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for item in attachments:
        attach(message, item.content, item.mime_type, item.filename)
    return message.as_bytes()


def _set_headers(message: EmailMessage, headers: Headers, subject: str) -> None:
    message["Message-ID"] = headers.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["From"] = formataddr((headers.from_name or "", headers.from_email))
    message["To"] = ", ".join(headers.to)
    if headers.cc:
        message["Cc"] = ", ".join(headers.cc)
    if headers.reply_to:
        message["Reply-To"] = Address(addr_spec=headers.reply_to)
    message["Subject"] = subject
    if headers.in_reply_to:
        message["In-Reply-To"] = headers.in_reply_to
        message["References"] = " ".join((*headers.references, headers.in_reply_to))
    if headers.auto_submitted:
        message["Auto-Submitted"] = headers.auto_submitted
        # Exchange and Outlook honour this and send no out-of-office in return.
        message["X-Auto-Response-Suppress"] = "All"
    for name, value in headers.extra:
        message[name] = value
