"""SQL for ``api_keys``, the one module that writes them (secrets stored hashed, shown
once); organizations are ``store.organizations``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipeline import crypto
from pipeline.db import Connection

SCOPES = ("read", "write", "send", "admin")
TOKEN_SEPARATOR = "."


@dataclass(frozen=True)
class IssuedKey:
    """A freshly created key: the only moment its secret is known."""

    id: int
    org_id: UUID
    key: str
    secret: str

    @property
    def token(self) -> str:
        """The single-string form used as a Bearer token or path key."""
        return f"{self.key}{TOKEN_SEPARATOR}{self.secret}"


def org_sid(conn: Connection, org_id: UUID) -> int:
    """The organization's stable integer number (the ``003_…`` family's ``sid``)."""
    row = conn.execute("SELECT sid FROM organizations WHERE id = %s", (org_id,)).fetchone()
    assert row is not None
    return int(row["sid"])


def normalise_scopes(scopes: list[str]) -> list[str]:
    """Validate scopes; ``write`` implies ``read``. Raises ``ValueError`` on an unknown scope."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)}")
    result = set(scopes) | ({"read"} if "write" in scopes or "admin" in scopes else set())
    return [s for s in SCOPES if s in result]


def create_key(
    conn: Connection,
    org_id: UUID,
    scopes: list[str],
    name: str = "API key",
    per_minute: int = 60,
    per_hour: int = 1000,
) -> IssuedKey:
    key = f"ik_{secrets.token_hex(12)}"
    secret = secrets.token_urlsafe(32)
    row = conn.execute(
        """INSERT INTO api_keys (org_id, public_id, secret_hash, name, scopes,
                                 requests_per_minute, requests_per_hour)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            org_id,
            key,
            crypto.hash_api_secret(secret),
            name,
            normalise_scopes(scopes),
            per_minute,
            per_hour,
        ),
    ).fetchone()
    assert row is not None
    return IssuedKey(row["id"], org_id, key, secret)


def authenticate(conn: Connection, key: str, secret: str) -> dict[str, Any] | None:
    """The key row if ``key``/``secret`` are valid and not revoked, else ``None``."""
    row = conn.execute(
        "SELECT * FROM api_keys WHERE public_id = %s AND revoked_at IS NULL", (key,)
    ).fetchone()
    if row is None or not crypto.verify_api_secret(secret, row["secret_hash"]):
        return None
    return row


def split_token(token: str) -> tuple[str, str]:
    key, _, secret = token.strip().partition(TOKEN_SEPARATOR)
    return key, secret


def touch_last_used(conn: Connection, key_id: int) -> None:
    """Record use at most once a minute per key, so busy keys do not write on every request.

    ``SKIP LOCKED``: a concurrent request of the same key that already holds the row (until
    its transaction ends) has the update covered, so nobody waits for it."""
    conn.execute(
        """UPDATE api_keys SET last_used_at = now()
           WHERE id = (SELECT id FROM api_keys WHERE id = %s
                         AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
                       FOR UPDATE SKIP LOCKED)""",
        (key_id,),
    )


KEY_COLUMNS = """id, public_id, name, scopes, requests_per_minute, requests_per_hour,
    last_used_at, revoked_at, created_at"""


def list_keys(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    """Every key of the organization, revoked ones included (never their secret hashes)."""
    return conn.execute(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def get_key(conn: Connection, org_id: UUID, key_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE org_id = %s AND id = %s", (org_id, key_id)
    ).fetchone()


def revoke(conn: Connection, org_id: UUID, key_id: int) -> dict[str, Any] | None:
    """Revoke the key (idempotent); ``None`` when the organization has no such key."""
    return conn.execute(
        f"""UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
            WHERE org_id = %s AND id = %s RETURNING {KEY_COLUMNS}""",
        (org_id, key_id),
    ).fetchone()
