"""The SMTP channel: an aiosmtpd handler that accepts mail only for known mailboxes.

Policy is decided cheaply at RCPT (unknown recipients get ``550 5.1.1``, so Intake is
never an open relay); the message is stored at DATA with ``accept_raw``'s statement, run
on the event loop, and ``250`` is answered only after it has committed. The first stage
is enqueued after the reply, off the event loop.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import queue
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from typing import TypeVar

import psycopg
from aiosmtpd.smtp import MISSING, SMTP, Session, syntax
from aiosmtpd.smtp import Envelope as SMTPEnvelope
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline import intake
from pipeline.records import Envelope, Mailbox
from pipeline.store import mailboxes

log = logging.getLogger(__name__)
T = TypeVar("T")

OK = "250 2.1.5 Recipient OK"
ACCEPTED = "250 2.0.0 Message accepted for delivery"
NO_SUCH_USER = "550 5.1.1 No such mailbox here"
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"
TEMP_FAILURE = "451 4.3.0 Temporary storage failure, try again later"
EMPTY = "554 5.6.0 Empty message"

DATABASE_DOWN = (psycopg.OperationalError, PoolTimeout)
CONNECTION_TIMEOUT = 5.0
STORE_CONNECTIONS = 8  # sessions wait on commits together (PostgreSQL flushes them at once)
LOOKUP_THREADS = 4  # recipient lookups, on cache misses only
HANDOFF_WINDOW = 0.05  # seconds between enqueues under load (see Handoff)

Statement = tuple[str, dict]
Cursor = psycopg.AsyncCursor[dict]


def accept_statement(raw: bytes, envelope: Envelope, mailbox: Mailbox) -> Statement:
    """The one-door statement (``pipeline.intake.accept_statement``) for an SMTP message."""
    return intake.accept_statement(raw, envelope, "smtp", mailbox)


def store_statements(raw: bytes, envelope: Envelope, targets: list[Mailbox]) -> list[Statement]:
    """One ``accept_raw`` statement per distinct mailbox."""
    boxes = {box.id: box for box in targets}.values()
    return [accept_statement(raw, envelope, box) for box in boxes]


class AsyncStore:
    """A few autocommit asyncio connections, opened on demand, that run the listener's stores
    on its event loop.

    A thread per store (hop, GIL hand-over, pool borrow) cost more CPU than the store, and so
    did psycopg_pool's ``AsyncConnectionPool``. A connection that turns out dead means the
    server went away, so every idle one is dropped and the store runs once more on a fresh
    connection (cheaper than checking each borrowed one; the listener recovers at the first
    message after a database restart; should the lost reply have been to a commit that did
    happen, the dedupe stage absorbs the second copy). ``PoolTimeout`` when no connection is
    free within ``CONNECTION_TIMEOUT``; ``OperationalError`` when none can be made.
    """

    def __init__(self, conninfo: str, size: int = STORE_CONNECTIONS) -> None:
        self.conninfo = conninfo
        self.idle: list[Cursor] = []  # one cursor per connection, kept: creating one costs
        self.free = asyncio.Semaphore(size)

    async def run(self, statements: list[Statement]) -> list[int]:
        """Run ``statements`` (atomically) and return the ids they return."""
        await self._take_slot()
        try:
            if self.idle:
                try:
                    return await self._run_on(self.idle.pop(), statements)
                except psycopg.OperationalError:
                    log.info("database connection lost; storing again on a fresh one")
            return await self._run_on(await self._connect(), statements)
        finally:
            self.free.release()

    def close(self) -> None:
        """Close the idle connections (from any thread, once the loop no longer uses them)."""
        while self.idle:
            _discard(self.idle.pop())

    async def _take_slot(self) -> None:
        if not self.free.locked():
            await self.free.acquire()  # at once
            return
        try:
            async with asyncio.timeout(CONNECTION_TIMEOUT):
                await self.free.acquire()
        except TimeoutError:
            raise PoolTimeout("no database connection free in time") from None

    async def _connect(self) -> Cursor:
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            row_factory=dict_row,
            connect_timeout=int(CONNECTION_TIMEOUT),
        )
        return conn.cursor()

    async def _run_on(self, cursor: Cursor, statements: list[Statement]) -> list[int]:
        try:
            if len(statements) == 1:  # accept_raw's statement is atomic by itself
                return [await _returned_id(cursor, statements[0])]
            async with cursor.connection.transaction():
                return [await _returned_id(cursor, statement) for statement in statements]
        finally:
            self._put_back(cursor)

    def _put_back(self, cursor: Cursor) -> None:
        conn = cursor.connection
        if conn.pgconn.transaction_status == TransactionStatus.IDLE:
            self.idle.append(cursor)
            return
        if conn.broken:
            self.close()
        _discard(cursor)


async def _returned_id(cursor: Cursor, statement: Statement) -> int:
    await cursor.execute(*statement)
    row = await cursor.fetchone()
    assert row is not None
    return int(row["id"])


def _discard(cursor: Cursor) -> None:
    """Close the connection without awaiting: ``AsyncConnection.close`` but for its
    bookkeeping."""
    cursor.connection.pgconn.finish()


def retry_once(operation: Callable[[], T]) -> T:
    """Run ``operation``, again once on a fresh connection if the first one was dead.

    Cheaper than checking every borrowed connection, and the listener recovers at the
    first message after a database restart. (Should the lost reply have been to a commit
    that did happen, the dedupe stage absorbs the second copy.)
    """
    try:
        return operation()
    except PoolTimeout:  # no connection could be made at all: do not wait twice
        raise
    except psycopg.OperationalError:
        return operation()


class RecipientCache:
    """Recipient address → mailbox, kept briefly: most mail goes to a few addresses, and
    a lookup per RCPT would double the listener's database round trips. A new or deleted
    mailbox is seen within ``ttl`` seconds (unknown addresses within ``negative_ttl``)."""

    def __init__(self, pool: ConnectionPool, ttl: float = 30.0, negative_ttl: float = 5.0) -> None:
        self.pool = pool
        self.ttl = ttl
        self.negative_ttl = negative_ttl
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
        self.entries[mailboxes.base_address(address)] = (time.monotonic() + ttl, mailbox)
        return mailbox

    def _lookup(self, address: str) -> Mailbox | None:
        with self.pool.connection(timeout=CONNECTION_TIMEOUT) as conn:
            return mailboxes.find_by_address(conn, address)


@lru_cache(maxsize=2)
def _date(second: int) -> str:
    return format_datetime(datetime.fromtimestamp(second, UTC))


def trace_header(session: Session, hostname: str) -> bytes:
    """An RFC 5321 §4.4 ``Received`` line for the top of the stored message."""
    peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
    helo = session.host_name or "unknown"
    stamp = _date(int(time.time()))  # formatted once a second, not once a message
    line = f"Received: from {helo} ([{peer}])\r\n\tby {hostname} (Intake) with ESMTP; {stamp}\r\n"
    return line.encode()


class Handoff:
    """Calls ``on_accepted`` from a thread of its own with the ids of committed messages,
    those of many sessions in one call under load.

    The reply does not wait for the enqueue (a failed one is left to the sweeper anyway).
    Waking a thread costs about as much as enqueueing a message, so after a first message
    (handed over at once) the thread hands over what came in every ``HANDOFF_WINDOW``,
    without being woken per message, until a window passes without any.
    """

    def __init__(self, on_accepted: Callable[[list[int]], None]) -> None:
        self.on_accepted = on_accepted
        self.pending: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="handoff", daemon=True)
        self.thread.start()

    def put(self, ids: list[int]) -> None:
        self.pending.put(ids)

    def close(self) -> None:
        """Hand over what is pending, then stop."""
        self.pending.put(None)
        self.thread.join()

    def _run(self) -> None:
        while True:
            batches = [self.pending.get()]  # idle until a message comes
            while batches:
                if not self._hand_over(batches):
                    return
                time.sleep(HANDOFF_WINDOW)
                batches = self._drain()

    def _drain(self) -> list[list[int] | None]:
        batches = []
        while not self.pending.empty():
            batches.append(self.pending.get_nowait())
        return batches

    def _hand_over(self, batches: list[list[int] | None]) -> bool:
        """Hand over the ids in ``batches``; whether to go on (no stop among them)."""
        ids = [i for batch in batches if batch is not None for i in batch]
        if ids:
            try:
                self.on_accepted(ids)
            except Exception:
                log.exception("enqueue failed after commit for message ids %s", ids)
        return None not in batches


class IntakeHandler:
    """aiosmtpd hooks. Messages are stored on the event loop (``AsyncStore``, connected like
    ``pool``, which serves the recipient lookups). ``on_accepted`` is called with new
    message ids after their commit, from a thread of its own (see ``Handoff``). ``close``
    once the server has stopped."""

    def __init__(
        self, pool: ConnectionPool, on_accepted: Callable[[list[int]], None], hostname: str
    ) -> None:
        self.store = AsyncStore(pool.conninfo)
        self.executor = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="rcpt")
        self.recipients = RecipientCache(pool)
        self.handoff = Handoff(on_accepted)
        self.hostname = hostname

    def close(self) -> None:
        self.executor.shutdown()
        self.store.close()
        self.handoff.close()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: SMTPEnvelope, address: str, options: list
    ) -> str:
        hit, mailbox = self.recipients.cached(address)
        try:
            if not hit:
                loop = asyncio.get_running_loop()
                mailbox = await loop.run_in_executor(
                    self.executor, self.recipients.resolve, address
                )
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
        if not content or content.isspace():  # what strip() would empty, without a copy
            return EMPTY
        raw = trace_header(session, self.hostname) + content
        meta = Envelope(envelope.mail_from or None, tuple(envelope.rcpt_tos))
        statements = store_statements(raw, meta, _targets(envelope))
        try:
            # Shielded: a sender hanging up mid-store does not cut a commit, or its enqueue.
            await asyncio.shield(self._store(statements))
        except DATABASE_DOWN:
            log.warning("database unavailable at DATA; answering 451")
            return TEMP_FAILURE
        return ACCEPTED

    async def _store(self, statements: list[Statement]) -> None:
        """Commit, then hand over for enqueueing."""
        self.handoff.put(await self.store.run(statements))


def _targets(envelope: SMTPEnvelope) -> list[Mailbox]:
    if not hasattr(envelope, "intake_mailboxes"):
        envelope.intake_mailboxes = []  # type: ignore[attr-defined]
    return envelope.intake_mailboxes  # type: ignore[attr-defined]


_ATOM = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
# ``<local@domain>`` of plain ASCII dot-atoms, then nothing or the parameters after blanks:
# the form nearly every MAIL FROM / RCPT TO takes, and one the full parser reads the same.
PLAIN_PATH = re.compile(rf"<({_DOT_ATOM}@{_DOT_ATOM})>(?:[ \t]+([^ \t(].*))?", re.DOTALL)


LINE_TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"  # aiosmtpd's replies
TOO_MUCH_DATA = "552 Error: Too much mail data"


class DataAccount:
    """Judges the DATA bytes it is fed, in any pieces, exactly as aiosmtpd's line-by-line
    loop would, and keeps them while they pass.

    In that loop a line whose text is longer than ``line_limit`` fails (``500``) before it
    counts towards ``size_limit``; any other line counts first (``552`` once the total is
    over) and then fails if it is longer than ``line_limit`` with its CRLF. The first
    failure decides; after it nothing is kept. Whole pieces are checked at once and only
    the piece holding a failure line by line.
    """

    def __init__(self, size_limit: int | None, line_limit: int) -> None:
        self.size_limit = size_limit or 0
        self.line_limit = line_limit
        self.size = 0  # bytes of the complete lines so far
        self.partial = b""  # the current line, until its CRLF arrives
        self.kept: list[bytes] = []
        self.error: str | None = None

    def feed(self, data: bytes) -> None:
        if self.error:
            return
        if self.partial:
            data = self.partial + data
        last = data.rfind(b"\r\n")
        end = last + 2 if last >= 0 else 0
        lines, self.partial = data[:end], data[end:]
        if lines:
            self._count(lines)
        if not self.error and len(self.partial) > self.line_limit + 1:
            self._fail(LINE_TOO_LONG)  # its text is already longer than the limit

    def content(self) -> bytes:
        """The message: the lines kept, with the leading dot of each removed (RFC 5321 §4.5.2)."""
        data = b"".join(self.kept)
        if data.startswith(b"."):
            data = data[1:]
        return data.replace(b"\r\n.", b"\r\n")

    def _count(self, lines: bytes) -> None:
        within = not self.size_limit or self.size + len(lines) <= self.size_limit
        if within and _lines_fit(lines, self.line_limit):
            self.size += len(lines)
            self.kept.append(lines)
        else:
            self._judge_each(lines)

    def _judge_each(self, lines: bytes) -> None:
        start = 0
        while start < len(lines):
            end = lines.index(b"\r\n", start) + 2
            if end - start - 2 > self.line_limit:
                return self._fail(LINE_TOO_LONG)
            self.size += end - start
            if self.size_limit and self.size > self.size_limit:
                return self._fail(TOO_MUCH_DATA)
            if end - start > self.line_limit:
                return self._fail(LINE_TOO_LONG)
            start = end
        self.kept.append(lines)

    def _fail(self, status: str) -> None:
        self.error = status
        self.kept.clear()


def _lines_fit(lines: bytes, limit: int) -> bool:
    """Whether every line of ``lines`` (which ends with CRLF) is at most ``limit`` bytes
    with its CRLF: one search per ``limit`` bytes, not one per line."""
    start = 0
    while len(lines) - start > limit:
        last = lines.rfind(b"\r\n", start, start + limit)
        if last == -1:
            return False
        start = last + 2
    return True


class _Place(enum.Enum):
    END = "the end marker was read"
    LINE_START = "a whole line was read"
    INSIDE = "inside a line, not just after a CR"


async def read_data(reader: asyncio.StreamReader, account: DataAccount) -> None:
    """Feed ``account`` the DATA section up to its lone-dot line, in pieces as large as the
    stream's limit allows; what follows that line stays in ``reader``.

    Inside a line, the end marker is searched for as CRLF "." CRLF. At the start of a line
    its CRLF is already read, so a line that may be the marker is read on its own first.
    """
    place = _Place.LINE_START
    while place is _Place.LINE_START:
        place = await _line_start(reader, account)
    while place is _Place.INSIDE:
        try:
            piece = await reader.readuntil(b"\r\n.\r\n")
        except asyncio.LimitOverrunError as error:
            # The unread rest keeps any partial marker, so no marker spans the cut.
            account.feed(await reader.read(error.consumed))
            continue
        account.feed(piece[:-3])
        place = _Place.END


async def _line_start(reader: asyncio.StreamReader, account: DataAccount) -> _Place:
    """Read just enough of a line to know whether it is the end marker."""
    first = await reader.readexactly(1)
    if first == b".":
        return await _dot_line(reader, account)
    account.feed(first)
    byte = first
    while byte == b"\r":  # its LF may come next, and end the line
        byte = await reader.readexactly(1)
        account.feed(byte)
        if byte == b"\n":
            return _Place.LINE_START
    return _Place.INSIDE


async def _dot_line(reader: asyncio.StreamReader, account: DataAccount) -> _Place:
    """The rest of a line that starts with a dot: the end marker, or a whole line to feed."""
    try:
        rest = await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError as error:
        account.feed(b"." + await reader.read(error.consumed))
        await _finish_line(reader, account)
        return _Place.LINE_START
    if rest == b"\r\n":
        return _Place.END
    account.feed(b"." + rest)
    return _Place.LINE_START


async def _finish_line(reader: asyncio.StreamReader, account: DataAccount) -> None:
    """Feed the rest of a line longer than the stream's limit."""
    while True:
        try:
            account.feed(await reader.readuntil(b"\r\n"))
            return
        except asyncio.LimitOverrunError as error:
            account.feed(await reader.read(error.consumed))


class IntakeSMTP(SMTP):
    """aiosmtpd's server with enhanced status codes on its built-in size rejections, and
    cheaper ways through the work it does for every message (paths, DATA, idle timer)."""

    # RFC 5321 allows 1000 octets a line; real senders exceed it, and losing their mail
    # over it helps nobody.
    line_length_limit = 64 * 1024

    def _reset_timeout(self, duration: float | None = None) -> None:
        """Move the idle deadline. aiosmtpd replaces its timer at every command; here it is
        replaced only when the new deadline is sooner, and re-armed when it fires early."""
        self._deadline = self.loop.time() + (duration or self._timeout_duration)
        handle = self._timeout_handle
        if handle is None or handle.cancelled() or handle.when() > self._deadline:
            if handle is not None:
                handle.cancel()
            self._timeout_handle = self.loop.call_at(self._deadline, self._timeout_cb)

    def _timeout_cb(self) -> None:
        if self.loop.time() < self._deadline:  # a command came since it was set
            self._timeout_handle = self.loop.call_at(self._deadline, self._timeout_cb)
            return
        super()._timeout_cb()

    async def push(self, status: str) -> None:
        if status.startswith("552 Error"):
            status = TOO_BIG
        await super().push(status)

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA, reading the message in large pieces (``read_data``) instead of
        line by line, which cost more than the rest of a message's SMTP dialogue. Same
        checks, same replies; setups the listener does not use go to aiosmtpd's own."""
        if self._decode_data or "DATA" not in self._handle_hooks:
            return await super().smtp_DATA(arg)
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            return await self.push("503 Error: need RCPT command")
        if arg:
            return await self.push("501 Syntax: DATA")
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        account = DataAccount(self.data_size_limit, self.line_length_limit)
        try:
            await read_data(self._reader, account)
        except asyncio.CancelledError:
            self._writer.close()  # the connection was lost
            raise
        if account.error:
            await self.push(account.error)
            return self._set_post_data_state()
        self.envelope.content = self.envelope.original_content = account.content()
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """Parse the path of MAIL / RCPT; plain ones by a regular expression.

        aiosmtpd's parser (the ``email`` header parser, plus a ``typing.Protocol`` class
        it defines on every call) was a quarter of the listener's CPU. Anything unusual
        (quotes, comments, literals, non-ASCII, ``<>``) still goes to it.
        """
        match = PLAIN_PATH.fullmatch(arg) if arg and not self.local_part_limit else None
        if match is None:
            return super()._getaddr(arg)
        return match[1], match[2] or ""


def default_hostname() -> str:
    return socket.getfqdn()
