"""Deliver webhook events: a signed JSON POST per attempt, retried with exponential backoff.

Body: ``{"id": <event id>, "type", "created_at", "data"}`` (the id is the same on every
attempt: receivers deduplicate by it). Headers: ``X-Intake-Signature: t=<unix>,v1=<hex
HMAC-SHA256(secret, "<t>.<body>")>``, ``X-Intake-Event`` (the type), ``X-Intake-Delivery``
(this attempt's id). A 2xx answer is success; anything else, a timeout or a connection
error is a failure, retried ``webhook_max_attempts`` times in all, the n-th retry
``webhook_retry_base_seconds * 2**(n-1)`` later (45 s … 12.8 h: about a day in all); a URL
that the SSRF rules refuse is not retried. Retries are scheduled in the database
(``next_attempt_at``) and handed out by the scheduler, so none is lost in a broker.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC
from urllib.parse import urlsplit

import httpx
from psycopg_pool import ConnectionPool

from config import Settings
from pipeline import crypto, event_payloads
from pipeline.db import Connection
from pipeline.errors import InputError
from pipeline.fetch import resolve_checked
from pipeline.store import webhooks
from pipeline.store.webhooks import Attempt, Result

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Intake-Signature"
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Intake-Webhooks/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Intake-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def body_of(attempt: Attempt) -> bytes:
    created = attempt.event_created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    document = {
        "id": str(attempt.event_id),
        "type": attempt.event_type,
        "created_at": created,
        "data": attempt.payload,
    }
    return json.dumps(document, separators=(",", ":"), default=str).encode()


def retry_delay(attempt: int, settings: Settings) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return settings.webhook_retry_base_seconds * 2 ** (attempt - 1)


@dataclass(frozen=True)
class Outcome:
    result: Result
    retryable: bool


def post(attempt: Attempt, settings: Settings) -> Outcome:
    """POST ``attempt`` once; never raises for what the network or the receiver does."""
    body = body_of(attempt)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Intake-Event": attempt.event_type,
        "X-Intake-Delivery": str(attempt.id),
    }
    try:
        if attempt.secret_enc:
            secret = crypto.decrypt(settings.secret_key, attempt.secret_enc)
            headers[SIGNATURE_HEADER] = sign(secret, int(time.time()), body)
        address = resolve_checked(*_host_port(attempt.url), settings.fetch_allow_private, "url")
    except (InputError, ValueError) as exc:  # refused URL, or a secret of another key
        # A name that does not resolve may be a resolver hiccup: worth another attempt.
        retryable = str(exc).startswith("cannot resolve")
        return Outcome(Result(False, None, None, None, str(exc)), retryable=retryable)
    return _post_pinned(attempt.url, address, body, headers, settings.webhook_timeout_seconds)


def _host_port(url: str) -> tuple[str, int]:
    """Raises ``InputError`` for anything but an http(s) URL with a host and a valid port."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise InputError("webhook URL has an invalid port", "url", 422) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InputError("webhook URL must be http or https with a host", "url", 422)
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _post_pinned(
    url: str, address: str, body: bytes, headers: dict[str, str], timeout: float
) -> Outcome:
    """POST to ``address`` only; the Host header and TLS SNI/verification keep the name.
    Redirects are not followed (a 3xx is a failure)."""
    parts = urlsplit(url)
    netloc_ip = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    port = parts.port or (443 if parts.scheme == "https" else 80)
    pinned = parts._replace(netloc=f"{netloc_ip}:{port}").geturl()
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    started = time.monotonic()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request(
                "POST",
                pinned,
                content=body,
                headers={**headers, "Host": parts.netloc.rpartition("@")[2]},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                text = _read_text(response)
            finally:
                response.close()
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(Result(False, None, None, elapsed, f"{type(exc).__name__}: {exc}"), True)
    elapsed = int((time.monotonic() - started) * 1000)
    ok = 200 <= response.status_code < 300
    error = None if ok else f"HTTP {response.status_code}"
    return Outcome(Result(ok, response.status_code, text, elapsed, error), retryable=not ok)


def _read_text(response: httpx.Response) -> str:
    data = b""
    for chunk in response.iter_bytes():
        data += chunk
        if len(data) >= MAX_RESPONSE_BYTES:
            break
    return data[:MAX_RESPONSE_BYTES].decode("utf-8", "replace")


def deliver(pool: ConnectionPool, delivery_id: int, settings: Settings) -> Result | None:
    """Make attempt ``delivery_id``: claim it, POST, record it, count it, schedule the next
    attempt or disable the subscription. ``None`` when there was nothing to do."""
    lease = settings.webhook_timeout_seconds * 3 + 60
    with pool.connection() as conn, conn.transaction():
        attempt = webhooks.claim(conn, delivery_id, lease)
        if attempt is None:
            return None
        if not attempt.is_active:
            inactive = Result(False, None, None, None, "subscription inactive")
            webhooks.record_attempt(conn, delivery_id, inactive)
            return inactive
    outcome = post(attempt, settings)
    with pool.connection() as conn, conn.transaction():
        record(conn, attempt, outcome, settings)
    return outcome.result


def record(conn: Connection, attempt: Attempt, outcome: Outcome, settings: Settings) -> None:
    """Store the attempt, update the counters, and follow up on a failure."""
    result = outcome.result
    webhooks.record_attempt(conn, attempt.id, result)
    reason = result.error or "failed"
    disabled = webhooks.count_attempt(
        conn, attempt.webhook_id, result.ok, settings.webhook_disable_after, reason
    )
    if result.ok or disabled or not outcome.retryable:
        return
    if attempt.attempt < settings.webhook_max_attempts:
        webhooks.schedule_retry(conn, attempt, retry_delay(attempt.attempt, settings))
    log.info(
        "webhook delivery=%s hook=%s attempt=%s failed: %s",
        attempt.id,
        attempt.webhook_id,
        attempt.attempt,
        reason,
    )


def deliver_test(conn: Connection, org_id, webhook_id: int, settings: Settings) -> Result:
    """Deliver a signed ``webhook.test`` event to one subscription now, in the caller's
    transaction. The attempt is recorded; the counters are not (a test is not traffic)."""
    delivery_id = webhooks.create_test_attempt(
        conn, org_id, webhook_id, event_payloads.webhook_test()
    )
    attempt = webhooks.claim(conn, delivery_id, settings.webhook_timeout_seconds + 60)
    assert attempt is not None
    outcome = post(attempt, settings)
    webhooks.record_attempt(conn, delivery_id, outcome.result)
    return outcome.result
