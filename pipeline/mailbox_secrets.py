"""Set a mailbox's secret (IMAP/POP password, SMTP password, OAuth client secret),
encrypted at rest with the key derived from ``INTAKE_SECRET_KEY``; never read back."""

from __future__ import annotations

from uuid import UUID

from pipeline import crypto
from pipeline.db import Connection
from pipeline.errors import NotFound
from pipeline.store import mailboxes

FIELDS = tuple(mailboxes.SECRET_COLUMNS)


def store_secret(
    conn: Connection, org_id: UUID, mailbox_id: int, field: str, value: str | None, secret_key: str
) -> None:
    """Encrypt and store ``value`` as ``field`` (an empty value clears it); raises ``NotFound``."""
    ciphertext = crypto.encrypt(secret_key, value) if value else None
    if not mailboxes.set_secret(conn, org_id, mailbox_id, field, ciphertext):
        raise NotFound("Mailbox not found", "mailbox_id")
