"""Read queries behind the ``004_…`` mailbox admin: list, get, queues (its writes are
``store.mailboxes``).

Reads never select a secret column's value, only whether it is set.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

# Columns that cannot be cleared (NOT NULL).
REQUIRED = (
    "name", "address", "aliases", "inbox_name", "imap_encryption", "sync_folders", "mark_seen",
    "is_active", "smtp_tls",
)  # fmt: skip
READ_COLUMNS = """id, name, address, aliases, inbox_name, imap_host, imap_port, imap_username,
    imap_encryption, sync_folders, mark_seen, is_active, smtp_host, smtp_port, smtp_username,
    smtp_tls, last_sync_at, last_error, last_error_at, created_at, updated_at,
    imap_password_enc IS NOT NULL AS has_password,
    smtp_password_enc IS NOT NULL AS has_smtp_password,
    oauth_client_secret_enc IS NOT NULL AS has_oauth_client_secret,
    oauth_refresh_token_enc IS NOT NULL AS gmail_connected"""


def list_all(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {READ_COLUMNS} FROM mailboxes WHERE org_id = %s ORDER BY name, id", (org_id,)
    ).fetchall()


def queues(conn: Connection, org_id: UUID) -> list[str]:
    """The inboxes (queues) tickets can go to: the distinct inbox names in use."""
    rows = conn.execute(
        "SELECT DISTINCT inbox_name FROM mailboxes WHERE org_id = %s ORDER BY inbox_name",
        (org_id,),
    ).fetchall()
    return [r["inbox_name"] for r in rows]


def get(conn: Connection, org_id: UUID, mailbox_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {READ_COLUMNS} FROM mailboxes WHERE org_id = %s AND id = %s",
        (org_id, mailbox_id),
    ).fetchone()
