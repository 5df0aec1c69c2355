"""The SMTP channel: an aiosmtpd handler that accepts mail only for known mailboxes.

Thin on purpose, over stock aiosmtpd (``smtp_server`` runs it): policy at RCPT (malformed
addresses ``553``, unknown recipients ``550 5.1.1``, so Intake is never an open relay;
aiosmtpd itself enforces SIZE with ``552``), then ``store``, a plain synchronous function
run in a thread, which commits the message once per mailbox and returns the ids; then
``250``, while the ids go to ``on_accepted`` (``Handoff``, batched across sessions). The
listener spends a small share of a message's CPU, so aiosmtpd's protocol code is kept
as it is.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, TypeVar

import psycopg
from aiosmtpd.smtp import SMTP, Session
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline import intake
from pipeline.intake.handoff import Handoff
from pipeline.records import Envelope, Mailbox
from pipeline.store import mailboxes

log = logging.getLogger(__name__)
T = TypeVar("T")

OK = "250 2.1.5 Recipient OK"
SENDER_OK = "250 2.1.0 Sender OK"
ACCEPTED = "250 2.0.0 Message accepted for delivery"
NO_SUCH_USER = "550 5.1.1 No such mailbox here"
MALFORMED = "553 5.1.3 Malformed address"
TEMP_FAILURE = "451 4.3.0 Temporary storage failure, try again later"
INTERNAL_ERROR = "451 4.3.0 Temporary local problem, try again later"
EMPTY = "554 5.6.0 Empty message"

DATABASE_DOWN = (psycopg.OperationalError, PoolTimeout)
CONNECTION_TIMEOUT = 5.0
MAX_ADDRESS_LENGTH = 254  # RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its <>


def well_formed(address: str) -> bool:
    """Whether ``address`` may reach the database: not too long, and no control
    characters (a NUL would make PostgreSQL refuse the statement)."""
    return 0 < len(address) <= MAX_ADDRESS_LENGTH and address.isprintable()


def retry_once(operation: Callable[[], T]) -> T:
    """Run ``operation``, again once if its connection turned out dead.

    The listener's connections are not checked when borrowed (a round trip per message);
    after a database restart the first store fails on a dead one and is run again. Should
    the lost reply have been to a commit that did happen, the dedupe stage absorbs the
    second copy.
    """
    try:
        return operation()
    except PoolTimeout:  # no connection could be had at all: do not wait twice
        raise
    except psycopg.OperationalError:
        return operation()


def store(
    pool: ConnectionPool, raw: bytes, envelope: Envelope, targets: Iterable[Mailbox]
) -> list[int]:
    """Store ``raw`` once for each distinct mailbox of ``targets``, all or none, and return
    the message ids: committed when this returns, so the caller may answer ``250``."""
    boxes = list({box.id: box for box in targets}.values())

    def attempt() -> list[int]:
        with pool.connection(timeout=CONNECTION_TIMEOUT) as conn:
            if len(boxes) == 1:  # one statement: atomic by itself, no BEGIN/COMMIT needed
                return [intake.accept_raw(conn, raw, envelope, "smtp", boxes[0])]
            with conn.transaction():
                return [intake.accept_raw(conn, raw, envelope, "smtp", box) for box in boxes]

    return retry_once(attempt)


class RecipientCache:
    """Recipient address → mailbox, kept briefly: most mail goes to a few addresses, and
    a lookup per RCPT would double the listener's database round trips. A new or deleted
    mailbox is seen within ``ttl`` seconds (unknown addresses within ``negative_ttl``).
    At most ``size`` addresses are kept, so random recipients cannot grow it for ever."""

    def __init__(
        self,
        pool: ConnectionPool,
        ttl: float = 30.0,
        negative_ttl: float = 5.0,
        size: int = 10_000,
    ) -> None:
        self.pool = pool
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.size = size
        self.entries: dict[str, tuple[float, Mailbox | None]] = {}

    def cached(self, address: str) -> tuple[bool, Mailbox | None]:
        """``(True, mailbox)`` when a fresh answer is cached (no I/O: safe on the event loop)."""
        entry = self.entries.get(mailboxes.base_address(address))
        if entry is not None and entry[0] > time.monotonic():
            return True, entry[1]
        return False, None

    def resolve(self, address: str) -> Mailbox | None:
        """Look ``address`` up in the database and cache the answer."""
        mailbox = retry_once(lambda: self._lookup(address))
        ttl = self.ttl if mailbox else self.negative_ttl
        if len(self.entries) >= self.size:
            self.entries.clear()  # cheaper than tracking ages; refilled at the next lookups
        self.entries[mailboxes.base_address(address)] = (time.monotonic() + ttl, mailbox)
        return mailbox

    def _lookup(self, address: str) -> Mailbox | None:
        with self.pool.connection(timeout=CONNECTION_TIMEOUT) as conn:
            return mailboxes.find_by_address(conn, address)


def trace_header(session: Session, hostname: str) -> bytes:
    """An RFC 5321 §4.4 ``Received`` line for the top of the stored message."""
    peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
    helo = session.host_name or "unknown"
    stamp = format_datetime(datetime.now(UTC))
    line = f"Received: from {helo} ([{peer}])\r\n\tby {hostname} (Intake) with ESMTP; {stamp}\r\n"
    return line.encode("utf-8", "surrogateescape")


class IntakeHandler:
    """aiosmtpd hooks over ``pool``: recipient lookups and stores run in threads of their
    own, so the event loop never waits on the database. ``on_accepted`` gets the ids of
    stored messages once they are committed (see ``Handoff``); ``close`` once the server
    has stopped."""

    def __init__(
        self, pool: ConnectionPool, on_accepted: Callable[[list[int]], None], hostname: str
    ) -> None:
        self.pool = pool
        self.hostname = hostname
        self.recipients = RecipientCache(pool)
        self.executor = ThreadPoolExecutor(max_workers=pool.max_size, thread_name_prefix="store")
        self.handoff = Handoff(on_accepted)

    def close(self) -> None:
        """Finish the stores under way, then their hand-overs."""
        self.executor.shutdown()
        self.handoff.close()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: SMTPEnvelope, address: str, options: list
    ) -> str:
        if address and not well_formed(address):  # "<>" (bounces) is fine
            return MALFORMED
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return SENDER_OK

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: SMTPEnvelope, address: str, options: list
    ) -> str:
        if not well_formed(address):
            return MALFORMED
        hit, mailbox = self.recipients.cached(address)
        try:
            if not hit:
                mailbox = await self._in_thread(self.recipients.resolve, address)
        except DATABASE_DOWN:
            log.warning("database unavailable at RCPT")
            return TEMP_FAILURE
        if mailbox is None:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        _targets(envelope).append(mailbox)
        return OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: SMTPEnvelope) -> str:
        content = envelope.original_content or b""
        if not content or content.isspace():  # what strip() would empty, without a copy
            return EMPTY
        raw = trace_header(session, self.hostname) + content
        meta = Envelope(envelope.mail_from or None, tuple(envelope.rcpt_tos))
        try:
            # Should the sender hang up meanwhile, the thread still commits and hands over.
            await self._in_thread(self.accept, raw, meta, _targets(envelope))
        except DATABASE_DOWN:
            log.warning("database unavailable at DATA; answering 451")
            return TEMP_FAILURE
        return ACCEPTED

    async def handle_exception(self, error: Exception) -> str:
        """Any other failure: logged here, never described to the client."""
        log.error("SMTP session failed", exc_info=error)
        return INTERNAL_ERROR

    def accept(self, raw: bytes, envelope: Envelope, targets: list[Mailbox]) -> list[int]:
        """Store, then queue the committed ids for their hand-over."""
        ids = store(self.pool, raw, envelope, targets)
        self.handoff.put(ids)
        return ids

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)


def _targets(envelope: SMTPEnvelope) -> list[Mailbox]:
    """The mailboxes accepted at RCPT, kept on aiosmtpd's per-transaction envelope."""
    if not hasattr(envelope, "intake_mailboxes"):
        envelope.intake_mailboxes = []  # type: ignore[attr-defined]
    return envelope.intake_mailboxes  # type: ignore[attr-defined]
