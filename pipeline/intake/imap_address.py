"""Where an IMAP connection may go: not an SSRF into the operator's network.

A mailbox's host comes from a client, so it is resolved once and every address it
resolves to is checked by the same guard as URL fetches, webhooks and relays
(``pipeline.fetch.is_public``: no loopback, private, link-local or reserved
targets unless ``INTAKE_IMAP_ALLOW_PRIVATE``). The connection then goes to those checked
addresses, never to the name again (DNS cannot answer differently the second time),
while TLS still sends and verifies the name the client gave.
"""

from __future__ import annotations

import socket
import ssl

from pipeline.errors import InputError
from pipeline.fetch import is_public


class HostRefused(Exception):
    """The host does not resolve, or resolves to an address Intake may not reach."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def checked_addresses(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address of ``host``, each checked; raises ``HostRefused`` if any is refused
    (a name with one private address among public ones could be steered to it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise HostRefused(f"cannot resolve host {host}") from None
    except UnicodeError:  # the IDNA codec refusing the name
        raise HostRefused(f"invalid host name {host!r}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not allow_private and not all(is_public(a) for a in addresses):
        raise HostRefused(f"{host} is not a public address")
    return addresses


def ensure_allowed_host(host: str, allow_private: bool, field: str) -> None:
    """Refuse (``InputError`` 422 naming ``field``) to save ``host`` as an IMAP server
    when it is, or resolves to, an address Intake may not reach.

    A name that does not resolve now is let through: its server may come up later, and
    every connection checks again.
    """
    try:
        checked_addresses(host, 0, allow_private)
    except HostRefused as refused:
        if not refused.message.startswith("cannot resolve"):
            raise InputError(refused.message, field, 422) from None


class NamedTLSContext(ssl.SSLContext):
    """A client context that sends SNI for, and verifies the certificate against,
    ``server_name``, whatever address the socket was opened to (imapclient and imaplib
    pass the host they connected to, here the checked address)."""

    server_name: str = ""

    def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):  # type: ignore[override]
        name = self.server_name or server_hostname
        return super().wrap_socket(sock, *args, server_hostname=name, **kwargs)


def tls_context(server_name: str, verify: bool) -> NamedTLSContext:
    """The system's default TLS checks against ``server_name``, or none at all for servers
    with self-signed certificates."""
    context = NamedTLSContext(ssl.PROTOCOL_TLS_CLIENT)
    context.server_name = server_name
    if verify:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
