"""SQL behind the ``004_…`` mailbox admin: list, create, update, secrets, delete.

Reads never select a secret column's value, only whether it is set.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

EDITABLE = (
    "name", "address", "aliases", "inbox_name", "imap_host", "imap_port", "imap_username",
    "imap_encryption", "sync_folders", "mark_seen", "is_active", "smtp_host", "smtp_port",
    "smtp_username", "smtp_tls",
)  # fmt: skip
# Columns that cannot be cleared (NOT NULL).
REQUIRED = (
    "name", "address", "aliases", "inbox_name", "imap_encryption", "sync_folders", "mark_seen",
    "is_active", "smtp_tls",
)  # fmt: skip
# The secret a client may set, by the name the API uses, and its encrypted column.
SECRET_COLUMNS = {
    "imap_password": "imap_password_enc",
    "smtp_password": "smtp_password_enc",
    "oauth_client_secret": "oauth_client_secret_enc",
}
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


def create(conn: Connection, org_id: UUID, values: dict[str, Any]) -> int:
    names = [n for n in EDITABLE if n in values]
    row = conn.execute(
        f"""INSERT INTO mailboxes (org_id, {", ".join(names)})
            VALUES (%(org)s, {", ".join(f"%({n})s" for n in names)}) RETURNING id""",
        {"org": org_id, **{n: values[n] for n in names}},
    ).fetchone()
    return int(row["id"])


def update(conn: Connection, org_id: UUID, mailbox_id: int, values: dict[str, Any]) -> bool:
    names = [n for n in EDITABLE if n in values]
    if not names:
        return get(conn, org_id, mailbox_id) is not None
    cur = conn.execute(
        f"""UPDATE mailboxes SET {", ".join(f"{n} = %({n})s" for n in names)}
            WHERE org_id = %(org)s AND id = %(id)s""",
        {"org": org_id, "id": mailbox_id, **{n: values[n] for n in names}},
    )
    return cur.rowcount == 1


def set_secret(
    conn: Connection, org_id: UUID, mailbox_id: int, field: str, ciphertext: bytes | None
) -> bool:
    """Store (or clear, with ``None``) the encrypted secret ``field``."""
    column = SECRET_COLUMNS[field]
    cur = conn.execute(
        f"UPDATE mailboxes SET {column} = %s WHERE org_id = %s AND id = %s",
        (ciphertext, org_id, mailbox_id),
    )
    return cur.rowcount == 1


def delete(conn: Connection, org_id: UUID, mailbox_id: int) -> bool:
    cur = conn.execute("DELETE FROM mailboxes WHERE org_id = %s AND id = %s", (org_id, mailbox_id))
    return cur.rowcount == 1
