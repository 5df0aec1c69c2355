"""Inbound provider endpoints: the URL token that names an organization, mailbox and provider.

The secret (Mailgun's signing key, or the basic-auth password for SendGrid and Postmark) is
stored encrypted; ``secret_of`` decrypts it only to check a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from psycopg.rows import class_row

from pipeline import crypto
from pipeline.db import Connection
from pipeline.records import Mailbox, columns

PROVIDERS = ("mailgun", "sendgrid", "postmark")
PATH_PREFIX = "/hooks/inbound"


@dataclass(frozen=True)
class Endpoint:
    id: int
    org_id: UUID
    mailbox_id: int | None
    provider: str
    token: str
    secret_enc: bytes | None

    @property
    def path(self) -> str:
        return f"{PATH_PREFIX}/{self.provider}/{self.token}"


def create(
    conn: Connection, secret_key: str, mailbox: Mailbox, provider: str, secret: str | None
) -> Endpoint:
    """A new endpoint for ``mailbox``; raises ``ValueError`` for an unknown provider."""
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r} (one of {', '.join(PROVIDERS)})")
    secret_enc = crypto.encrypt(secret_key, secret) if secret else None
    with conn.cursor(row_factory=class_row(Endpoint)) as cur:
        row = cur.execute(
            f"""INSERT INTO inbound_endpoints (org_id, mailbox_id, provider, token, secret_enc)
                VALUES (%s, %s, %s, %s, %s) RETURNING {columns(Endpoint)}""",
            (mailbox.org_id, mailbox.id, provider, crypto.new_token("ie"), secret_enc),
        ).fetchone()
    assert row is not None
    return row


def find(conn: Connection, provider: str, token: str) -> Endpoint | None:
    with conn.cursor(row_factory=class_row(Endpoint)) as cur:
        return cur.execute(
            f"SELECT {columns(Endpoint)} FROM inbound_endpoints WHERE provider = %s AND token = %s",
            (provider, token),
        ).fetchone()


def secret_of(secret_key: str, endpoint: Endpoint) -> str | None:
    return crypto.decrypt(secret_key, endpoint.secret_enc) if endpoint.secret_enc else None


def signing_keys(conn: Connection, secret_key: str, org_id: UUID) -> list[str]:
    """The Mailgun signing keys of ``org_id``'s Mailgun endpoints."""
    rows = conn.execute(
        """SELECT secret_enc FROM inbound_endpoints
           WHERE org_id = %s AND provider = 'mailgun' AND secret_enc IS NOT NULL""",
        (org_id,),
    ).fetchall()
    return list(dict.fromkeys(crypto.decrypt(secret_key, r["secret_enc"]) for r in rows))
