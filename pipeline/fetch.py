"""Fetch a URL on a client's behalf without becoming an SSRF proxy (SPEC §8).

http and https only; every address the name resolves to must be public (no loopback,
link-local, private, multicast or reserved ranges) unless the operator allows private
targets; the connection is pinned to the checked address, so DNS cannot change between
check and use; each redirect is checked again; size and time are bounded: each read by
``timeout``, and every fetch a request makes by one shared ``Deadline`` (a server that
trickles bytes just under the read timeout cannot hold a web worker for long).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.errors import InputError

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0
REQUEST_DEADLINE_SECONDS = 30.0
MAX_URLS = 20  # attachment URLs one request may ask Intake to fetch


class Deadline:
    """One time budget for every fetch of one request, redirects and all attachments."""

    def __init__(self, seconds: float = REQUEST_DEADLINE_SECONDS) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self, field: str) -> float:
        """Seconds left; raises ``InputError`` 504 once the budget is spent."""
        left = self.at - time.monotonic()
        if left <= 0:
            raise InputError(f"fetching took longer than {self.seconds:g} s in total", field, 504)
        return left


@dataclass(frozen=True)
class Fetched:
    url: str
    content_type: str
    data: bytes
    filename: str


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve_checked(host: str, port: int, allow_private: bool, field: str) -> str:
    """The first address of ``host`` after checking every address it resolves to."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):  # unknown, over-long or NUL names
        raise InputError(f"cannot resolve host {host!r}", field, 422) from None
    addresses = [info[4][0] for info in infos]
    if not allow_private and not all(is_public(a) for a in addresses):
        raise InputError(f"URL host {host!r} is not a public address", field, 422)
    return addresses[0]


def _check_url(url: str, field: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        raise InputError(f"malformed URL: {exc}", field, 422) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InputError("URL must be http or https with a host", field, 422)
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def fetch(
    url: str,
    *,
    max_bytes: int,
    allow_private: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    field: str = "url",
    deadline: Deadline | None = None,
) -> Fetched:
    """GET ``url`` under the rules above, within ``deadline`` (default: a fresh one);
    raises ``InputError`` (422/413/502/504) naming ``field``."""
    deadline = deadline or Deadline()
    for _ in range(MAX_REDIRECTS + 1):
        host, port = _check_url(url, field)
        address = resolve_checked(host, port, allow_private, field)
        response_url, status, headers, data = _get_pinned(
            url, address, timeout, max_bytes, field, deadline
        )
        if status in {301, 302, 303, 307, 308} and "location" in headers:
            url = urljoin(url, headers["location"])
            continue
        if status >= 400:
            raise InputError(f"fetching {url} answered HTTP {status}", field, 502)
        name = urlsplit(response_url).path.rsplit("/", 1)[-1] or "download"
        return Fetched(
            response_url, headers.get("content-type", "application/octet-stream"), data, name
        )
    raise InputError("too many redirects", field, 502)


def _get_pinned(
    url: str, address: str, timeout: float, max_bytes: int, field: str, deadline: Deadline
) -> tuple[str, int, dict[str, str], bytes]:
    """GET ``url`` connecting to ``address`` only (Host header and TLS SNI keep the name)."""
    parts = urlsplit(url)
    ip = ipaddress.ip_address(address)
    netloc_ip = f"[{address}]" if ip.version == 6 else address
    pinned = parts._replace(
        netloc=f"{netloc_ip}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
    )
    headers = {"Host": parts.netloc.rpartition("@")[2]}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    timeout = min(timeout, deadline.remaining(field))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "GET", pinned.geturl(), headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                data = _read_bounded(response, max_bytes, field, deadline)
            finally:
                response.close()
            return url, response.status_code, dict(response.headers), data
    except httpx.HTTPError as exc:
        deadline.remaining(field)  # a read cut short by the deadline is a 504, not a 502
        raise InputError(f"fetching {url} failed: {exc}", field, 502) from None


def _read_bounded(
    response: httpx.Response, max_bytes: int, field: str, deadline: Deadline
) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise InputError(f"content larger than {max_bytes} bytes", field, 413)
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        deadline.remaining(field)
        size += len(chunk)
        if size > max_bytes:
            raise InputError(f"content larger than {max_bytes} bytes", field, 413)
        chunks.append(chunk)
    return b"".join(chunks)
