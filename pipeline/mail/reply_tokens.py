"""Signed plus-address reply tokens: ``support+<ticket>-<signature>@example.com``.

The signature is an HMAC of the organization and ticket keyed from ``INTAKE_SECRET_KEY``
(80 bits, lower-case base32 so that mail servers that fold case do not break it), so a
token cannot be guessed or moved to another ticket or tenant.
"""

from __future__ import annotations

import base64
import hmac
from uuid import UUID

from pipeline.crypto import sign

PURPOSE = "intake/reply-token"
SIGNATURE_CHARS = 16


def _signature(secret_key: str, org_id: UUID, ticket_id: int) -> str:
    digest = sign(secret_key, PURPOSE, f"{org_id}:{ticket_id}".encode())
    return base64.b32encode(digest).decode().lower()[:SIGNATURE_CHARS]


def make_token(secret_key: str, org_id: UUID, ticket_id: int) -> str:
    return f"{ticket_id}-{_signature(secret_key, org_id, ticket_id)}"


def reply_address(mailbox_address: str, secret_key: str, org_id: UUID, ticket_id: int) -> str:
    """The address a customer's answer to ticket ``ticket_id`` should go to."""
    local, _, domain = mailbox_address.partition("@")
    base = local.split("+", 1)[0]
    return f"{base}+{make_token(secret_key, org_id, ticket_id)}@{domain}"


def token_of(address: str) -> str | None:
    """The plus-part of ``address``, if any."""
    local = address.strip().strip("<>").rpartition("@")[0]
    _, plus, token = local.partition("+")
    return token.lower() if plus and token else None


def verify_token(secret_key: str, org_id: UUID, token: str) -> int | None:
    """The ticket id ``token`` names, or ``None`` if it is malformed or forged."""
    ticket, _, signature = token.lower().partition("-")
    if not ticket.isdigit() or len(signature) != SIGNATURE_CHARS:
        return None
    expected = _signature(secret_key, org_id, int(ticket))
    return int(ticket) if hmac.compare_digest(expected, signature) else None
