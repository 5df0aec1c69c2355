"""Real receivers for what Intake sends: an SMTP sink (aiosmtpd) and an HTTP webhook receiver.

The SMTP sink records every message it accepts and can be told to answer the next DATA
commands with given replies (``451 …``, ``550 …``). The HTTP receiver records every POST,
checks its ``X-Intake-Signature`` with the secret it is given, and answers with the next
queued status (200 by default).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class SinkHandler:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.replies: deque[str] = deque()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.replies:
            reply = self.replies.popleft()
            if not reply.startswith("250"):
                return reply
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return f"250 2.0.0 Ok: queued as SINK{len(self.messages)}"


class SmtpSink:
    def __init__(self, port: int) -> None:
        self.handler = SinkHandler()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=port)
        self.host, self.port = "127.0.0.1", port

    @property
    def messages(self) -> list[Received]:
        return self.handler.messages

    def answer_next(self, *replies: str) -> None:
        """Answer the next DATA commands with ``replies`` (then accept again)."""
        self.handler.replies.extend(replies)


def verify_signature(secret: str, header: str, body: bytes) -> bool:
    """What a subscriber does (the README's snippet): recompute and compare."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


@dataclass(frozen=True)
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_valid: bool | None


class HttpReceiver:
    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.statuses: deque[int] = deque()
        self.secret: str | None = None
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer_next(self, *statuses: int) -> None:
        self.statuses.extend(statuses)

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                signature = self.headers.get("X-Intake-Signature")
                valid = (
                    verify_signature(receiver.secret, signature, body)
                    if receiver.secret and signature
                    else None
                )
                receiver.hits.append(Hit(self.path, dict(self.headers), body, valid))
                status = receiver.statuses.popleft() if receiver.statuses else 200
                reply = b"OK" if status < 300 else b"nope"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        return Handler
