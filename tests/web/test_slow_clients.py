"""The web front under its real gunicorn settings survives slow clients: 40 connections
trickling a 100 KB body do not stop ``/healthz`` answering (two gthread workers of four
threads each fell to this for 100 s)."""

from __future__ import annotations

import socket
import time
import urllib.request

from tests.web.served import gunicorn

SLOW_CLIENTS = 40
BODY_BYTES = 100_000


def _open_slow_body(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = (
        "POST /api/rpc/tickets/email/inbound HTTP/1.1\r\nHost: intake\r\n"
        f"Content-Type: application/json\r\nContent-Length: {BODY_BYTES}\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"organizationId": "')
    return sock


def _health_latency(base_url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(f"{base_url}/healthz", timeout=3) as response:
        assert response.status == 200
    return time.monotonic() - started


def test_forty_slow_bodies_do_not_stop_healthz(tmp_path):
    with gunicorn(tmp_path) as served:
        slow = [_open_slow_body(served.port) for _ in range(SLOW_CLIENTS)]
        try:
            latencies = []
            for _ in range(5):
                for sock in slow:
                    sock.sendall(b"0")  # a byte now and then: never finished, never idle
                latencies.append(_health_latency(served.base_url))
                time.sleep(0.5)
        finally:
            for sock in slow:
                sock.close()
    assert max(latencies) < 1.0, latencies
