"""Open an authenticated IMAP session and turn every way it can fail into one clear message.

``connect`` returns a logged-in ``IMAPClient`` or raises ``ImapFailure`` whose message is
safe to store and show (host, port, user and the server's words; never the password).
"""

from __future__ import annotations

import ast
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from imapclient import IMAPClient
from imapclient.exceptions import CapabilityError, IMAPClientError, LoginError

from pipeline.records import ImapAccount

ENCRYPTIONS = ("ssl", "tls", "none")


class ImapFailure(Exception):
    """An IMAP operation failed; ``kind`` is one of connect, tls, auth, folder, protocol."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def tls_context(verify: bool) -> ssl.SSLContext:
    """The system's default TLS checks, or none at all for servers with self-signed certs."""
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _text(exc: BaseException) -> str:
    """The server's words: imapclient wraps some as the ``repr`` of bytes (``"b'...'"``)."""
    value = exc.args[0] if exc.args else str(exc)
    if isinstance(value, str) and value[:2] in ("b'", 'b"') and value[-1:] == value[1]:
        with suppress(ValueError, SyntaxError):
            value = ast.literal_eval(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def describe(exc: BaseException, account: ImapAccount) -> ImapFailure:
    """Classify ``exc`` raised while talking to ``account``'s server."""
    where = f"{account.host}:{account.port}"
    if isinstance(exc, ImapFailure):
        return exc
    if isinstance(exc, LoginError):
        return ImapFailure("auth", f"login failed for {account.username}: {_text(exc)}")
    if isinstance(exc, ssl.SSLError):
        return ImapFailure("tls", f"TLS failure with {where}: {exc.reason or exc}")
    if isinstance(exc, CapabilityError):
        return ImapFailure("tls", f"{where} does not offer STARTTLS; use ssl or none")
    if isinstance(exc, UnicodeError):  # the IDNA codec refusing the host name
        return ImapFailure("connect", f"invalid host name {account.host!r}")
    if isinstance(exc, socket.gaierror):
        return ImapFailure("connect", f"cannot resolve host {account.host}")
    if isinstance(exc, TimeoutError | socket.timeout):
        return ImapFailure("connect", f"timed out talking to {where}")
    if isinstance(exc, ConnectionRefusedError):
        return ImapFailure("connect", f"connection refused by {where}")
    if isinstance(exc, OSError):
        return ImapFailure("connect", f"cannot reach {where}: {exc.strerror or exc}")
    if isinstance(exc, IMAPClientError | IMAPClient.Error):
        return ImapFailure("protocol", f"IMAP error from {where}: {_text(exc)}")
    raise exc


def connect(account: ImapAccount, timeout: float, verify_tls: bool = True) -> IMAPClient:
    """A logged-in client; raises ``ImapFailure``."""
    context = tls_context(verify_tls)
    client: IMAPClient | None = None
    try:
        client = IMAPClient(
            account.host,
            account.port,
            ssl=account.encryption == "ssl",
            ssl_context=context,
            timeout=timeout,
        )
        client.normalise_times = False  # keep INTERNALDATE's own offset, not local time
        if account.encryption == "tls":
            client.starttls(context)
        client.login(account.username, account.password)
        return client
    except Exception as exc:
        if client is not None:
            _close(client)
        raise describe(exc, account) from None


@contextmanager
def session(account: ImapAccount, timeout: float, verify_tls: bool = True) -> Iterator[IMAPClient]:
    """``connect`` for a ``with`` block; logs out at the end and classifies errors inside it."""
    client = connect(account, timeout, verify_tls)
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
