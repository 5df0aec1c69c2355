"""Running the SMTP handler: aiosmtpd ``SMTP`` sessions behind a per-client cap.

aiosmtpd's ``Controller`` offers no public way to bind with ``SO_REUSEPORT`` (several
listener processes on one port), so the listener serves its sessions with asyncio's own
``create_server``, as ``python -m aiosmtpd`` does, on an event loop in a thread of its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiosmtpd.smtp import SMTP

from pipeline.intake.smtp import IntakeHandler

log = logging.getLogger(__name__)
TOO_MANY = b"421 4.7.0 Too many connections from your address, try again later\r\n"


class IntakeSMTP(SMTP):
    """Stock aiosmtpd, with the longer line limit its documentation offers
    (``line_length_limit = 2**16``, set before instantiation): real senders exceed RFC
    5321's 1,000 octets a line, and refusing their mail helps nobody."""

    line_length_limit = 2**16


class ConnectionCap(asyncio.Protocol):
    """One connection: at most ``limit`` at a time from one client address are handed to
    an SMTP session; any more are told ``421`` and closed.

    It stands in front of the session and passes every protocol event on, because
    aiosmtpd has no hook at connection time (the session only knows its peer once
    connected) nor at disconnection.
    """

    def __init__(self, open_by_peer: Counter, limit: int, session: Callable[[], SMTP]) -> None:
        self.open_by_peer = open_by_peer  # shared by every connection of the server
        self.limit = limit
        self.make_session = session
        self.session: SMTP | None = None
        self.peer: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peername = transport.get_extra_info("peername")
        self.peer = peername[0] if isinstance(peername, tuple) else str(peername)
        if self.open_by_peer[self.peer] >= self.limit:
            log.info("refused a connection from %s: %d already open", self.peer, self.limit)
            transport.write(TOO_MANY)  # type: ignore[attr-defined]
            transport.close()
            return
        self.open_by_peer[self.peer] += 1
        self.session = self.make_session()
        self.session.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.session is None:
            return
        self.open_by_peer[self.peer] -= 1
        if self.open_by_peer[self.peer] <= 0:
            del self.open_by_peer[self.peer]
        self.session.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.session is not None:
            self.session.data_received(data)

    def eof_received(self) -> bool | None:
        return self.session.eof_received() if self.session is not None else None

    def pause_writing(self) -> None:
        if self.session is not None:
            self.session.pause_writing()

    def resume_writing(self) -> None:
        if self.session is not None:
            self.session.resume_writing()


class Listener:
    """The SMTP listener on ``host:port`` (``SO_REUSEPORT``), its sessions on an event loop
    in a thread of its own: ``start`` returns once it is bound, ``stop`` ends the sessions
    and waits for the stores under way.

    ``session_options`` go to aiosmtpd's ``SMTP`` (size limit, hostname, idle timeout…).
    """

    def __init__(
        self,
        handler: IntakeHandler,
        host: str,
        port: int,
        *,
        max_connections_per_ip: int,
        **session_options: Any,
    ) -> None:
        self.handler = handler
        self.hostname = host
        self.port = port
        self.limit = max_connections_per_ip
        self.session_options = session_options
        self.open_by_peer: Counter = Counter()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="smtp", daemon=True)
        self.server: asyncio.AbstractServer | None = None

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        bound = asyncio.run_coroutine_threadsafe(self._bind(), self.loop)
        self.server = bound.result(timeout)
        if not self.port:  # port 0: the one the system chose
            self.port = self.server.sockets[0].getsockname()[1]

    def stop(self, timeout: float = 30.0) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)
        self.loop.close()
        self.handler.close()

    def connection(self) -> ConnectionCap:
        return ConnectionCap(self.open_by_peer, self.limit, self.session)

    def session(self) -> SMTP:
        return IntakeSMTP(self.handler, loop=self.loop, **self.session_options)

    async def _bind(self) -> asyncio.AbstractServer:
        return await self.loop.create_server(
            self.connection, self.hostname, self.port, reuse_port=True
        )

    async def _close(self) -> None:
        """Stop listening, then end the sessions (a store under way still finishes in its
        thread, and ``handler.close`` waits for it)."""
        assert self.server is not None
        self.server.close()
        current = asyncio.current_task()
        sessions = [task for task in asyncio.all_tasks() if task is not current]
        for task in sessions:
            task.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
        await asyncio.sleep(0)  # let the closed connections report their loss
