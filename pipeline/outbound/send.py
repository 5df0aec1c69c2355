"""Queue a mail for sending and send it: the one outbound path (API sends, auto-replies).

``queue_mail`` runs in the caller's transaction: it picks the relay, decides the headers
(Intake Message-ID, signed reply address for ticket mail, threading, ``Auto-Submitted``),
composes the bytes, stores them and a ``queued`` ``sent_mails`` row, and returns the
``send_mail`` job for the caller to enqueue after commit. ``deliver`` is the worker side:
claim the row, hand the bytes to the relay, record the answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from psycopg_pool import ConnectionPool

from config import Settings
from pipeline import crypto
from pipeline.db import Connection
from pipeline.errors import InputError
from pipeline.jobs import Job
from pipeline.mail.reply_tokens import reply_address
from pipeline.outbound import relay
from pipeline.outbound.compose import (
    AUTO_SUBMITTED,
    Headers,
    OutboundAttachment,
    compose_outbound_mail,
    new_message_id,
)
from pipeline.store import blobs, messages, outbound, send_configs, tickets

log = logging.getLogger(__name__)

SEND_ACTOR = "send_mail"
KINDS = ("api", "auto_reply", "agent_reply", "notification")


@dataclass(frozen=True)
class OutboundMail:
    """One mail to send. ``config_id`` picks the relay (else the organization's default);
    ``ticket_id`` gives it a signed reply address; ``in_reply_to_message`` (a ``messages``
    id) threads it under the mail it answers. ``thread`` (In-Reply-To, References) saves
    reading them back when the caller holds that mail already (see ``thread_of``)."""

    to: tuple[str, ...]
    subject: str
    text: str | None = None
    html: str | None = None
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    from_email: str | None = None
    from_name: str | None = None
    reply_to: str | None = None
    attachments: tuple[OutboundAttachment, ...] = ()
    tags: tuple[str, ...] = ()
    config_id: int | None = None
    kind: str = "api"
    ticket_id: int | None = None
    in_reply_to_message: int | None = None
    thread: tuple[str | None, tuple[str, ...]] | None = None


def queue_mail(
    conn: Connection, org_id: UUID, mail: OutboundMail, settings: Settings
) -> tuple[int, Job]:
    """Store ``mail`` as ``queued``; return its ``sent_mails`` id and the job that sends it.

    Raises ``InputError`` (field named) when there is no recipient, no body, or no relay.
    """
    _check(mail)
    config = send_configs.find_config(conn, org_id, mail.config_id)
    if config is None:
        raise InputError("No send configuration for this organization", "config_id", 422)
    headers = _headers(conn, org_id, mail, config, settings)
    raw = compose_outbound_mail(headers, mail.subject, mail.text, mail.html, mail.attachments)
    row = _row(mail, config.id, headers, blobs.put(conn, raw))
    sent_mail_id = outbound.insert_sent_mail(conn, org_id, row)
    return sent_mail_id, Job(SEND_ACTOR, (sent_mail_id,))


def _check(mail: OutboundMail) -> None:
    if not mail.to:
        raise InputError("At least one recipient is required", "to", 422)
    if mail.text is None and mail.html is None:
        raise InputError("Either text or html content is required", "text", 422)
    if mail.kind not in KINDS:
        raise ValueError(f"unknown outbound kind {mail.kind!r}")


def _headers(
    conn: Connection, org_id: UUID, mail: OutboundMail, config, settings: Settings
) -> Headers:
    in_reply_to, references = mail.thread or _thread(conn, org_id, mail.in_reply_to_message)
    return Headers(
        message_id=new_message_id(settings.message_id_domain),
        from_email=mail.from_email or config.from_email,
        from_name=mail.from_name if mail.from_email else (mail.from_name or config.from_name),
        to=mail.to,
        cc=mail.cc,
        reply_to=mail.reply_to or _ticket_reply_address(conn, org_id, mail.ticket_id, settings),
        in_reply_to=in_reply_to,
        references=references,
        auto_submitted=AUTO_SUBMITTED.get(mail.kind),
    )


def _thread(
    conn: Connection, org_id: UUID, message_id: int | None
) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To and References for an answer to stored message ``message_id`` (RFC 5322 §3.6.4)."""
    if message_id is None:
        return None, ()
    answered = messages.get(conn, org_id, message_id)
    return thread_of(answered.message_id, answered.references) if answered else (None, ())


def thread_of(message_id: str | None, references: list[str]) -> tuple[str | None, tuple[str, ...]]:
    """The answered mail's Message-ID and its own References (``compose_outbound_mail``
    appends the former to the latter, RFC 5322 §3.6.4)."""
    if not message_id:
        return None, ()
    return message_id, tuple(r for r in references if r != message_id)


def _ticket_reply_address(
    conn: Connection, org_id: UUID, ticket_id: int | None, settings: Settings
) -> str | None:
    """``support+<ticket>-<hmac>@…`` on the ticket's mailbox, so the answer threads back."""
    if ticket_id is None:
        return None
    ticket = tickets.detail(conn, org_id, ticket_id)
    if ticket is None or ticket["mailbox_address"] is None:
        return None
    return reply_address(ticket["mailbox_address"], settings.secret_key, org_id, ticket_id)


def _row(mail: OutboundMail, config_id: int, headers: Headers, raw_sha256: str) -> dict:
    return {
        "config_id": config_id,
        "ticket_id": mail.ticket_id,
        "in_reply_to_message": mail.in_reply_to_message,
        "kind": mail.kind,
        "message_id": headers.message_id,
        "from_address": headers.from_email,
        "from_name": headers.from_name,
        "reply_to": headers.reply_to,
        "to_addresses": list(mail.to),
        "cc_addresses": list(mail.cc),
        "bcc_addresses": list(mail.bcc),
        "subject": mail.subject,
        "body_text": mail.text,
        "body_html": mail.html,
        "attachments": [
            {"filename": a.filename, "mime_type": a.mime_type, "size": len(a.content)}
            for a in mail.attachments
        ],
        "tags": list(mail.tags),
        "raw_sha256": raw_sha256,
    }


@dataclass(frozen=True)
class SendResult:
    """``status`` is what the row now says: ``sent``, ``failed``, or ``queued`` (retry)."""

    status: str
    response: str


def deliver(
    pool: ConnectionPool, sent_mail_id: int, settings: Settings, *, last_attempt: bool = False
) -> SendResult | None:
    """Send queued mail ``sent_mail_id`` once; ``None`` if it is not queued (already sent,
    failed, or in another worker's hands). A temporary failure puts it back to ``queued``
    for the caller's retry, or marks it ``failed`` on the ``last_attempt``."""
    with pool.connection() as conn, conn.transaction():
        row = outbound.claim_for_sending(conn, sent_mail_id)
        if row is None:
            return None
        config = send_configs.find_config(conn, row["org_id"], row["config_id"])
        raw = blobs.get(conn, row["raw_sha256"])
    result = _send(row, config, raw, settings)
    status = {"sent": "sent", "permanent": "failed"}.get(result.outcome, "queued")
    if status == "queued" and last_attempt:
        status = "failed"
    error = None if status == "sent" else result.response
    with pool.connection() as conn, conn.transaction():
        outbound.record_result(conn, sent_mail_id, status, result.response, error)
    log.info("sent_mail=%s %s: %s", sent_mail_id, status, result.response)
    return SendResult(status, result.response)


def _send(row: dict, config, raw: bytes, settings: Settings) -> relay.Delivery:
    if config is None:
        return relay.Delivery("permanent", "send configuration was deleted")
    try:
        password = (
            crypto.decrypt(settings.secret_key, config.password_enc)
            if config.password_enc
            else None
        )
    except ValueError as exc:  # stored under another INTAKE_SECRET_KEY
        return relay.Delivery("permanent", str(exc))
    target = relay.Relay(
        host=config.host,
        port=config.port,
        tls_mode=config.tls_mode,
        username=config.username,
        password=password,
        timeout=settings.outbound_timeout_seconds,
        allow_private=settings.fetch_allow_private,
    )
    recipients = [*row["to_addresses"], *row["cc_addresses"], *row["bcc_addresses"]]
    return relay.send(target, row["from_address"], recipients, raw)
