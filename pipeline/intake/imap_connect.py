"""Open an authenticated IMAP session and turn every way it can fail into one clear message.

``connect`` returns a logged-in ``IMAPClient`` or raises ``ImapFailure`` whose message is
safe to store and show: Intake's own words naming host, port or user, never the password
and never the bytes a server sent (a host that is not an IMAP server must not become a
way to read other services' banners, issue 16). The server's words go to the log only.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from config import Settings
from pipeline.intake.imap_address import HostRefused, checked_addresses, tls_context
from pipeline.records import ImapAccount

log = logging.getLogger(__name__)

ENCRYPTIONS = ("ssl", "tls", "none")
# RFC 5530 response codes a failed LOGIN may carry: a fixed vocabulary, safe to repeat.
LOGIN_CODES = re.compile(
    r"\[(UNAVAILABLE|AUTHENTICATIONFAILED|AUTHORIZATIONFAILED|EXPIRED|PRIVACYREQUIRED"
    r"|CONTACTADMIN|LIMIT)\]"
)


class ImapFailure(Exception):
    """An IMAP operation failed; ``kind`` is one of refused (a host Intake may not reach),
    connect, tls, auth, folder, protocol."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def describe(exc: BaseException, account: ImapAccount, logged_in: bool = True) -> ImapFailure:
    """Classify ``exc`` raised while talking to ``account``'s server."""
    where = f"{account.host}:{account.port}"
    if isinstance(exc, ImapFailure):
        return exc
    if isinstance(exc, HostRefused):
        return ImapFailure("refused", exc.message)
    if isinstance(exc, LoginError):
        return ImapFailure("auth", _login_failed(exc, account))
    if isinstance(exc, ssl.SSLError):
        return ImapFailure("tls", f"TLS failure with {where}: {exc.reason or exc}")
    if isinstance(exc, CapabilityError):
        return ImapFailure("tls", f"{where} does not offer STARTTLS; use ssl or none")
    if isinstance(exc, UnicodeError):  # the IDNA codec refusing the host name
        return ImapFailure("connect", f"invalid host name {account.host!r}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return ImapFailure("connect", f"timed out talking to {where}")
    if isinstance(exc, ConnectionRefusedError):
        return ImapFailure("connect", f"connection refused by {where}")
    if isinstance(exc, OSError):
        return ImapFailure("connect", f"cannot reach {where}: {exc.strerror or 'network error'}")
    if isinstance(exc, IMAPClientError | IMAPClient.Error):
        log.info("IMAP error from %s: %.300s", where, exc)
        if not logged_in:
            return ImapFailure("protocol", f"{where} did not answer as an IMAP server")
        return ImapFailure("protocol", f"{where} refused an IMAP command")
    raise exc


def _login_failed(exc: LoginError, account: ImapAccount) -> str:
    log.info("IMAP login refused by %s:%s: %.300s", account.host, account.port, exc)
    code = LOGIN_CODES.search(str(exc))
    reason = f" ({code.group(1)})" if code else ""
    return f"login failed for {account.username}{reason}"


def connect(account: ImapAccount, settings: Settings) -> IMAPClient:
    """A logged-in client, connected to a checked address of the account's host;
    raises ``ImapFailure`` (before any connection when the host is refused)."""
    client: IMAPClient | None = None
    try:
        client = _open(account, settings)
        client.normalise_times = False  # keep INTERNALDATE's own offset, not local time
        if account.encryption == "tls":
            client.starttls(tls_context(account.host, settings.imap_verify_tls))
        client.login(account.username, account.password)
        return client
    except Exception as exc:
        if client is not None:
            _close(client)
        raise describe(exc, account, logged_in=False) from None


def _open(account: ImapAccount, settings: Settings) -> IMAPClient:
    """Connect to the first of the host's checked addresses that answers."""
    *others, last = checked_addresses(account.host, account.port, settings.imap_allow_private)
    for address in others:
        try:
            return _client(address, account, settings)
        except OSError as exc:
            if isinstance(exc, ssl.SSLError):  # it answered: the next address would too
                raise
    return _client(last, account, settings)


def _client(address: str, account: ImapAccount, settings: Settings) -> IMAPClient:
    return IMAPClient(
        address,
        account.port,
        ssl=account.encryption == "ssl",
        ssl_context=tls_context(account.host, settings.imap_verify_tls),
        timeout=settings.imap_timeout_seconds,
    )


@contextmanager
def session(account: ImapAccount, settings: Settings) -> Iterator[IMAPClient]:
    """``connect`` for a ``with`` block; logs out at the end and classifies errors inside it."""
    client = connect(account, settings)
    try:
        yield client
    except Exception as exc:
        raise describe(exc, account) from None
    finally:
        _close(client)


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is already gone; nothing left to release
        try:
            client.shutdown()
        except Exception:
            return
