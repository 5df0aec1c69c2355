"""Who may call the public ``001_…`` RPC for an organization.

The RPC is public by its documentation: a caller names an organization id and one of its
mailbox addresses. An organization may add a secret (stored hashed, shown once); once it
has one, calls without it are refused. Every refusal looks the same to the caller, so the
RPC cannot be used to learn which organizations or addresses exist.
"""

from __future__ import annotations

import secrets
from uuid import UUID

from pipeline import crypto
from pipeline.db import Connection
from pipeline.records import Mailbox
from pipeline.store import mailboxes, organizations

# Compared against when the organization is unknown, so that path costs the same.
_NO_SECRET_HASH = crypto.hash_api_secret(secrets.token_urlsafe(32))


def issue_secret(conn: Connection, org_id: UUID) -> str:
    """A new secret for the organization's RPC calls, replacing any previous one."""
    secret = f"rpc_{secrets.token_urlsafe(32)}"
    organizations.set_rpc_secret_hash(conn, org_id, crypto.hash_api_secret(secret))
    return secret


def clear_secret(conn: Connection, org_id: UUID) -> None:
    """Make the organization's RPC public again (as documented by the seed)."""
    organizations.set_rpc_secret_hash(conn, org_id, None)


def accepted_mailbox(
    conn: Connection, org_id: UUID, address: str, secret: str | None
) -> Mailbox | None:
    """The organization's mailbox for ``address`` if the call is accepted, else ``None``
    whatever the reason: unknown organization, an address not its own, a missing or wrong
    secret."""
    row = conn.execute("SELECT rpc_secret_hash FROM organizations WHERE id = %s", (org_id,))
    org = row.fetchone()
    stored = org["rpc_secret_hash"] if org is not None else None
    secret_ok = crypto.verify_api_secret(secret or "", stored or _NO_SECRET_HASH)
    box = mailboxes.find_by_address(conn, address)
    if org is None or box is None or box.org_id != org_id:
        return None
    return box if stored is None or secret_ok else None
