"""``POST /api/send``: turn a validated request into a queued mail on the one outbound path.

The request's fields are already checked (addresses, lengths, no line breaks). Here the
attachments are decoded (base64) or fetched through the SSRF guard, the ticket or email
the mail answers is looked up in the caller's organization, and ``queue_mail`` stores it.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from config import Settings
from pipeline.db import Connection
from pipeline.errors import InputError
from pipeline.fetch import Deadline, fetch
from pipeline.jobs import Job
from pipeline.outbound.compose import OutboundAttachment
from pipeline.outbound.send import OutboundMail, queue_mail
from pipeline.store import messages, sent_mails, tickets

TOO_LARGE = 413


@dataclass(frozen=True)
class Queued:
    sent_mail_id: int
    message_id: str
    job: Job


def send(conn: Connection, org_id: UUID, request: dict[str, Any], settings: Settings) -> Queued:
    """Queue ``request`` (the validated JSON of ``POST /api/send``); raises ``InputError``."""
    if not request.get("text") and not request.get("html"):
        raise InputError("Either text or html content is required", "text", 422)
    # Fetch before touching the database: no transaction waits on a slow URL.
    attachments = attachments_of(request.get("attachments") or [], settings)
    ticket_id, email_id = _thread_of(conn, org_id, request)
    mail = OutboundMail(
        to=tuple(request["to"]),
        cc=tuple(request.get("cc") or ()),
        bcc=tuple(request.get("bcc") or ()),
        subject=request["subject"],
        text=request.get("text"),
        html=request.get("html"),
        from_email=request.get("from_email"),
        from_name=request.get("from_name"),
        reply_to=request.get("reply_to"),
        attachments=attachments,
        tags=tuple(request.get("tags") or ()),
        config_id=request.get("config_id"),
        kind="api",
        ticket_id=ticket_id,
        in_reply_to_message=email_id,
    )
    sent_mail_id, job = queue_mail(conn, org_id, mail, settings)
    return Queued(sent_mail_id, sent_mails.message_id_of(conn, sent_mail_id), job)


def _thread_of(
    conn: Connection, org_id: UUID, request: dict[str, Any]
) -> tuple[int | None, int | None]:
    """The ticket (for the signed reply address) and the email the mail answers, if given.

    Answering an email without naming its ticket answers on that email's ticket.
    """
    ticket_id, email_id = request.get("ticket_id"), request.get("email_id")
    if email_id is not None:
        answered = messages.get(conn, org_id, email_id)
        if answered is None:
            raise InputError("Email not found", "email_id", 422)
        ticket_id = ticket_id if ticket_id is not None else answered.ticket_id
    if ticket_id is not None and tickets.get(conn, org_id, ticket_id) is None:
        raise InputError("Ticket not found", "ticket_id", 422)
    return ticket_id, email_id


def attachments_of(
    items: list[dict[str, Any]], settings: Settings
) -> tuple[OutboundAttachment, ...]:
    """Each ``{name, content}`` decoded or ``{name, url}`` fetched, within the size limit
    and one fetch deadline for them all."""
    budget, deadline = settings.max_message_bytes, Deadline()
    result = []
    for index, item in enumerate(items):
        attachment = _attachment(index, item, budget, settings, deadline)
        budget -= len(attachment.content)
        if budget < 0:
            raise InputError("Attachments are too large", f"attachments.{index}", TOO_LARGE)
        result.append(attachment)
    return tuple(result)


def _attachment(
    index: int, item: dict[str, Any], budget: int, settings: Settings, deadline: Deadline
) -> OutboundAttachment:
    name, field = item["name"], f"attachments.{index}"
    if item.get("content") is not None:
        content = _decode(item["content"], f"{field}.content")
        declared = None
    else:
        fetched = fetch(
            item["url"],
            max_bytes=max(budget, 0),
            allow_private=settings.fetch_allow_private,
            field=f"{field}.url",
            deadline=deadline,
        )
        content, declared = fetched.data, fetched.content_type.split(";")[0].strip()
    if declared == "application/octet-stream":
        declared = None  # says nothing: the name's extension says more
    mime_type = item.get("content_type") or declared or _guess(name)
    return OutboundAttachment(name, content, mime_type)


def _decode(content: str, field: str) -> bytes:
    try:
        return base64.b64decode("".join(content.split()), validate=True)
    except (binascii.Error, ValueError):
        raise InputError("content must be base64", field, 422) from None


def _guess(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
