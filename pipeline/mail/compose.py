"""Compose an RFC 822 message from fields an API client gave (``insertTicket``).

The API's mail goes through the one door like any other, so it is stored as the raw
message a mail server would have delivered.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from pipeline.fetch import Fetched

HTML_TAG = re.compile(r"<(p|br|div|span|a|b|i|strong|em|ul|ol|li|table|html|body|h[1-6])\b", re.I)
TAGS = re.compile(r"<[^>]+>")


def looks_like_html(text: str) -> bool:
    return bool(HTML_TAG.search(text))


def one_line(value: str) -> str:
    """Header text without line breaks, so no client field can inject a header."""
    return " ".join(value.split())


def compose_api_ticket_mail(
    *,
    from_email: str,
    from_name: str | None,
    to_email: str,
    subject: str,
    body: str,
    attachments: list[Fetched],
    message_id_domain: str,
) -> bytes:
    """The raw bytes (CRLF line ends); an HTML ``body`` also gets a plain-text alternative."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = formataddr((one_line(from_name or ""), one_line(from_email)))
    mail["To"] = one_line(to_email)
    mail["Subject"] = one_line(subject)
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = make_msgid(domain=message_id_domain)
    if looks_like_html(body):
        mail.set_content(TAGS.sub("", body))
        mail.add_alternative(body, subtype="html")
    else:
        mail.set_content(body)
    for item in attachments:
        attach(mail, item.data, item.content_type.split(";")[0].strip(), item.filename)
    return mail.as_bytes()


def attach(message: EmailMessage, data: bytes, mime_type: str, filename: str | None) -> None:
    """Add ``data`` as an attachment of ``mime_type`` (``application/octet-stream`` for
    whatever part of it is missing)."""
    maintype, _, subtype = mime_type.partition("/")
    message.add_attachment(
        data,
        maintype=maintype or "application",
        subtype=subtype or "octet-stream",
        filename=filename,
    )
