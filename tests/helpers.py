"""Shared test helpers: mail from strings, organizations, running the pipeline."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from pipeline.records import Envelope, Mailbox
from pipeline.store import keys, organizations, send_configs


@dataclass(frozen=True)
class Org:
    org_id: UUID
    key: keys.IssuedKey

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key.key, "X-API-Secret": self.key.secret}


def make_org(conn, name: str = "Acme", scopes: tuple[str, ...] = keys.SCOPES) -> Org:
    org_id = organizations.create(conn, name)
    return Org(org_id, keys.create_key(conn, org_id, list(scopes)))


def mfs(text: str) -> bytes:
    """Message from string: dedent, CRLF line ends, as a mail server would hand it over."""
    body = textwrap.dedent(text).lstrip("\n")
    return body.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def accept(pool, raw: bytes, mailbox: Mailbox, channel: str = "smtp") -> int:
    from pipeline.intake import accept_raw

    with pool.connection() as conn, conn.transaction():
        return accept_raw(
            conn, raw, Envelope("sender@example.org", (mailbox.address,)), channel, mailbox
        )


def run_pipeline(pool, message_id: int, settings=None) -> None:
    """Run every pending stage of ``message_id`` now, exactly as a worker would."""
    from config import load_settings
    from pipeline.context import StageContext
    from pipeline.runner import run_message

    run_message(pool, message_id, StageContext(settings or load_settings()))


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def relay_to(conn, org_id, sink, **overrides) -> send_configs.SendConfig:
    """Make the test SMTP ``sink`` the organization's default relay (``overrides``: other
    ``create_config`` values)."""
    values = {
        "name": "sink",
        "host": sink.host,
        "port": sink.port,
        "tls_mode": "none",
        "from_email": "support@example.com",
        "from_name": "Acme Support",
        "is_default": True,
        **overrides,
    }
    return send_configs.create_config(conn, org_id, **values)


def relay_and_webhook(conn, org_id, settings, smtp_sink, http_receiver, secret, events) -> None:
    """Turn auto-replies on through the test relay and subscribe the test HTTP receiver."""
    from pipeline import crypto
    from pipeline.store import webhooks

    conn.execute("UPDATE organizations SET auto_reply_enabled = true WHERE id = %s", (org_id,))
    relay_to(conn, org_id, smtp_sink, from_name=None)
    http_receiver.secret = secret
    webhooks.create(
        conn, org_id, http_receiver.url(), events, crypto.encrypt(settings.secret_key, secret), True
    )
