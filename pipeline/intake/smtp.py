"""The SMTP channel: an aiosmtpd handler that accepts mail only for known mailboxes.

Policy is decided cheaply at RCPT (unknown recipients get ``550 5.1.1``, so Intake is
never an open relay); the message is stored at DATA by ``store_envelope``, a plain
sync function, and ``250`` is answered only after it has committed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import psycopg
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline.intake import accept_raw
from pipeline.records import Envelope, Mailbox
from pipeline.store import mailboxes

log = logging.getLogger(__name__)

OK = "250 2.1.5 Recipient OK"
ACCEPTED = "250 2.0.0 Message accepted for delivery"
NO_SUCH_USER = "550 5.1.1 No such mailbox here"
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
TEMP_FAILURE = "451 4.3.0 Temporary storage failure, try again later"
EMPTY = "554 5.6.0 Empty message"

DATABASE_DOWN = (psycopg.OperationalError, PoolTimeout)
CONNECTION_TIMEOUT = 5.0


def store_envelope(
    pool: ConnectionPool, raw: bytes, envelope: Envelope, targets: list[Mailbox]
) -> list[int]:
    """Store ``raw`` once per distinct mailbox in one transaction; return the message ids."""
    with pool.connection(timeout=CONNECTION_TIMEOUT) as conn, conn.transaction():
        return [accept_raw(conn, raw, envelope, "smtp", box) for box in _distinct(targets)]


def _distinct(targets: list[Mailbox]) -> list[Mailbox]:
    return list({box.id: box for box in targets}.values())


def resolve_recipient(pool: ConnectionPool, address: str) -> Mailbox | None:
    with pool.connection(timeout=CONNECTION_TIMEOUT) as conn:
        return mailboxes.find_by_address(conn, address)


def trace_header(session: Session, hostname: str) -> bytes:
    """An RFC 5321 §4.4 ``Received`` line for the top of the stored message."""
    peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
    helo = session.host_name or "unknown"
    stamp = format_datetime(datetime.now(UTC))
    line = f"Received: from {helo} ([{peer}])\r\n\tby {hostname} (Intake) with ESMTP; {stamp}\r\n"
    return line.encode()


class IntakeHandler:
    """aiosmtpd hooks. ``on_accepted`` is called with the new message ids after commit."""

    def __init__(
        self, pool: ConnectionPool, on_accepted: Callable[[list[int]], None], hostname: str
    ) -> None:
        self.pool = pool
        self.on_accepted = on_accepted
        self.hostname = hostname

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: SMTPEnvelope, address: str, options: list
    ) -> str:
        loop = asyncio.get_running_loop()
        try:
            mailbox = await loop.run_in_executor(None, resolve_recipient, self.pool, address)
        except DATABASE_DOWN:
            log.warning("database unavailable at RCPT")
            return TEMP_FAILURE
        if mailbox is None:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(options)
        _targets(envelope).append(mailbox)
        return OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SMTPEnvelope) -> str:
        content = envelope.original_content or b""
        if not content.strip():
            return EMPTY
        raw = trace_header(session, self.hostname) + content
        meta = Envelope(envelope.mail_from or None, tuple(envelope.rcpt_tos))
        loop = asyncio.get_running_loop()
        try:
            ids = await loop.run_in_executor(
                None, store_envelope, self.pool, raw, meta, _targets(envelope)
            )
        except DATABASE_DOWN:
            log.warning("database unavailable at DATA; answering 451")
            return TEMP_FAILURE
        await loop.run_in_executor(None, self._notify, ids)
        return ACCEPTED

    def _notify(self, ids: list[int]) -> None:
        try:
            self.on_accepted(ids)
        except Exception:  # the sweeper enqueues what could not be sent now
            log.exception("enqueue failed after commit for message ids %s", ids)


def _targets(envelope: SMTPEnvelope) -> list[Mailbox]:
    if not hasattr(envelope, "intake_mailboxes"):
        envelope.intake_mailboxes = []  # type: ignore[attr-defined]
    return envelope.intake_mailboxes  # type: ignore[attr-defined]


class IntakeSMTP(SMTP):
    """aiosmtpd's server with enhanced status codes on its built-in size rejections."""

    # RFC 5321 allows 1000 octets a line; real senders exceed it, and losing their mail
    # over it helps nobody.
    line_length_limit = 64 * 1024

    async def push(self, status: str) -> None:
        if status.startswith("552 Error"):
            status = TOO_BIG
        await super().push(status)


def default_hostname() -> str:
    return socket.getfqdn()
