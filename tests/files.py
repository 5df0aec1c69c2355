"""A local HTTP file server for the tests that fetch attachments by URL.

Each test module says what every path answers (a function from the path to a ``Reply``);
the ``serve_files`` fixture (``tests/conftest.py``) runs it on a free port in a thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """What the server answers a GET with. ``Content-Length`` is the body's unless
    ``headers`` sets it (to announce more than is sent)."""

    body: bytes = b""
    content_type: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Answer = Callable[[str], Reply]


@contextmanager
def file_server(answer: Answer) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1 until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = answer(self.path)
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            headers = {"Content-Length": str(len(reply.body)), **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
