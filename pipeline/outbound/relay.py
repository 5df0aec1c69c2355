"""Hand one composed message to an SMTP relay and classify what it answered.

The relay's host is resolved and checked like any address Intake connects to on a
client's behalf (``pipeline.fetch``: no private or loopback targets unless allowed), and
the connection is pinned to the checked address while TLS still verifies the host name.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from pipeline.errors import InputError
from pipeline.fetch import resolve_checked


@dataclass(frozen=True)
class Relay:
    host: str
    port: int
    tls_mode: str
    username: str | None
    password: str | None
    timeout: float
    allow_private: bool = False


@dataclass(frozen=True)
class Delivery:
    """What happened: ``sent``; ``temporary`` (4xx, connection trouble: retry later); or
    ``permanent`` (5xx, refused configuration: never retry). ``response`` is the server's
    reply or the error as text."""

    outcome: str
    response: str


class _Pinned:
    """Connect to the checked address (``self._host`` keeps the name for TLS verification)
    and keep the relay's answer to DATA, which ``sendmail`` drops."""

    pinned_address: str
    data_reply: str = ""

    def _get_socket(self, host, port, timeout):
        return super()._get_socket(self.pinned_address, port, timeout)  # type: ignore[misc]

    def data(self, msg):
        code, reply = super().data(msg)  # type: ignore[misc]
        self.data_reply = f"{code} {_text(reply)}"
        return code, reply


class PinnedSMTP(_Pinned, smtplib.SMTP):
    pass


class PinnedSMTPSSL(_Pinned, smtplib.SMTP_SSL):
    pass


def send(relay: Relay, sender: str, recipients: list[str], raw: bytes) -> Delivery:
    """Send ``raw`` to ``recipients``; never raises for what the relay or network does."""
    try:
        address = resolve_checked(relay.host, relay.port, relay.allow_private, "host")
    except InputError as exc:
        return Delivery("permanent", exc.message)
    smtp = _client(relay, address)
    try:
        with smtp:
            _open(smtp, relay)
            refused = smtp.sendmail(sender, recipients, raw)
    except smtplib.SMTPResponseException as exc:
        return _classify(exc.smtp_code, _text(exc.smtp_error))
    except smtplib.SMTPRecipientsRefused as exc:
        return _refused(exc.recipients)
    except smtplib.SMTPNotSupportedError as exc:  # e.g. STARTTLS configured, not offered
        return Delivery("permanent", f"relay does not support: {exc}")
    except (smtplib.SMTPException, OSError) as exc:
        return Delivery("temporary", f"{type(exc).__name__}: {exc}")
    return Delivery("sent", _accepted_reply(smtp, refused))


def _client(relay: Relay, address: str) -> PinnedSMTP | PinnedSMTPSSL:
    if relay.tls_mode == "ssl":
        smtp = PinnedSMTPSSL(timeout=relay.timeout, context=ssl.create_default_context())
    else:
        smtp = PinnedSMTP(timeout=relay.timeout)
    smtp.pinned_address = address
    return smtp


def _open(smtp: PinnedSMTP | PinnedSMTPSSL, relay: Relay) -> None:
    smtp.connect(relay.host, relay.port)
    if relay.tls_mode == "starttls":
        smtp.starttls(context=ssl.create_default_context())
    if relay.username:
        smtp.login(relay.username, relay.password or "")


def _accepted_reply(smtp: _Pinned, refused: dict) -> str:
    """The relay's answer to DATA, plus the recipients it refused (if only some were)."""
    reply = smtp.data_reply
    if refused:
        reply += "; refused: " + ", ".join(
            f"{rcpt} {code} {_text(msg)}" for rcpt, (code, msg) in refused.items()
        )
    return reply


def _classify(code: int, text: str) -> Delivery:
    reply = f"{code} {text}".strip()
    if 400 <= code < 500:
        return Delivery("temporary", reply)
    if 500 <= code < 600:
        return Delivery("permanent", reply)
    return Delivery("temporary", reply)


def _refused(recipients: dict) -> Delivery:
    """Every recipient refused: temporary if any refusal was, else permanent."""
    replies = "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in recipients.items())
    temporary = any(400 <= code < 500 for code, _ in recipients.values())
    return Delivery("temporary" if temporary else "permanent", replies)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
