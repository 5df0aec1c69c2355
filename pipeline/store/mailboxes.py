"""SQL for ``mailboxes``, the one module that writes them, and the resolution of
recipient addresses to them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from pipeline.crypto import decrypt
from pipeline.db import Connection
from pipeline.records import ImapAccount, Mailbox, columns


def base_address(address: str) -> str:
    """``support+abc@example.com`` → ``support@example.com`` (lower-cased)."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}".lower()


def find_by_address(conn: Connection, address: str) -> Mailbox | None:
    """The mailbox that receives for ``address`` or its plus-addressed form.

    Read through ``mailbox_addresses``, where each address has exactly one owner.
    """
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        return cur.execute(
            f"""SELECT {columns(Mailbox)} FROM mailboxes WHERE id = (
                    SELECT mailbox_id FROM mailbox_addresses
                    WHERE address = mailbox_address_key(%s))""",
            (address,),
        ).fetchone()


def get(conn: Connection, org_id: UUID, mailbox_id: int) -> Mailbox | None:
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        return cur.execute(
            f"SELECT {columns(Mailbox)} FROM mailboxes WHERE org_id = %s AND id = %s",
            (org_id, mailbox_id),
        ).fetchone()


def find_by_id(conn: Connection, mailbox_id: int) -> Mailbox | None:
    """Any organization's mailbox by id: for workers, which act on ids they were given."""
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        return cur.execute(
            f"SELECT {columns(Mailbox)} FROM mailboxes WHERE id = %s", (mailbox_id,)
        ).fetchone()


def create(
    conn: Connection,
    org_id: UUID,
    address: str,
    name: str | None = None,
    aliases: list[str] | None = None,
) -> Mailbox:
    """Insert a mailbox; raises ``UniqueViolation`` if another receives for an address."""
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        row = cur.execute(
            f"""INSERT INTO mailboxes (org_id, name, address, aliases) VALUES (%s, %s, %s, %s)
                RETURNING {columns(Mailbox)}""",
            (org_id, name or address, address.strip().lower(), aliases or []),
        ).fetchone()
    assert row is not None
    return row


# --- IMAP accounts (``002_…`` calls mailboxes "accounts") -------------------------------

ACCOUNT_COLUMNS = """id, org_id, name, address, imap_host, imap_port, imap_username,
    imap_password_enc IS NOT NULL AS has_password, imap_encryption, sync_folders, mark_seen,
    is_active, last_sync_at, last_error, last_error_at, created_at, updated_at"""

# API field → column, for the fields an account create/update may set.
ACCOUNT_FIELDS = {
    "name": "name",
    "email": "address",
    "host": "imap_host",
    "port": "imap_port",
    "username": "imap_username",
    "encryption": "imap_encryption",
    "sync_folders": "sync_folders",
    "mark_seen": "mark_seen",
    "is_active": "is_active",
}


def imap_account(
    conn: Connection, secret_key: str, mailbox_id: int, org_id: UUID | None = None
) -> ImapAccount | None:
    """The mailbox's IMAP settings with the password decrypted; ``None`` if it has none."""
    row = conn.execute(
        f"""SELECT {columns(Mailbox)}, imap_host, imap_port, imap_username, imap_password_enc,
                   imap_encryption, sync_folders, mark_seen
            FROM mailboxes WHERE id = %s AND (%s::uuid IS NULL OR org_id = %s::uuid)""",
        (mailbox_id, org_id, org_id),
    ).fetchone()
    if row is None or not row["imap_host"] or row["imap_password_enc"] is None:
        return None
    box = Mailbox(**{f: row[f] for f in Mailbox.__dataclass_fields__})
    return ImapAccount(
        mailbox=box,
        host=row["imap_host"],
        port=row["imap_port"],
        username=row["imap_username"],
        password=decrypt(secret_key, row["imap_password_enc"]),
        encryption=row["imap_encryption"],
        sync_folders=list(row["sync_folders"]),
        mark_seen=row["mark_seen"],
    )


def active_imap_folders(conn: Connection) -> list[tuple[int, str]]:
    """``(mailbox id, folder)`` for every folder of every active IMAP mailbox."""
    rows = conn.execute(
        """SELECT id, unnest(sync_folders) AS folder FROM mailboxes
           WHERE is_active AND imap_host IS NOT NULL AND imap_password_enc IS NOT NULL
           ORDER BY id"""
    ).fetchall()
    return [(r["id"], r["folder"]) for r in rows]


def watched_imap_folders(conn: Connection) -> dict[tuple[int, str], str]:
    """Active folders with a fingerprint of their connection settings.

    An IDLE watcher restarts when its fingerprint changes (new host, password…) but not
    when a sync merely stamps ``last_sync_at``.
    """
    rows = conn.execute(
        """SELECT id, unnest(sync_folders) AS folder,
                  md5(concat_ws('|', imap_host, imap_port, imap_username, imap_encryption,
                                encode(imap_password_enc, 'hex'))) AS fingerprint
           FROM mailboxes
           WHERE is_active AND imap_host IS NOT NULL AND imap_password_enc IS NOT NULL"""
    ).fetchall()
    return {(r["id"], r["folder"]): r["fingerprint"] for r in rows}


def list_accounts(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS} FROM mailboxes WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def get_account(conn: Connection, org_id: UUID, mailbox_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {ACCOUNT_COLUMNS} FROM mailboxes WHERE org_id = %s AND id = %s",
        (org_id, mailbox_id),
    ).fetchone()


def _assignments(values: dict[str, Any], password_enc: bytes | None) -> dict[str, Any]:
    columns_ = {ACCOUNT_FIELDS[k]: v for k, v in values.items() if k in ACCOUNT_FIELDS}
    if "address" in columns_:
        columns_["address"] = columns_["address"].strip().lower()
    if password_enc is not None:
        columns_["imap_password_enc"] = password_enc
    return columns_


def create_account(
    conn: Connection, org_id: UUID, values: dict[str, Any], password_enc: bytes
) -> dict[str, Any]:
    """Insert an account; raises ``psycopg.errors.UniqueViolation`` if its address is taken."""
    cols = _assignments(values, password_enc)
    names = ", ".join(["org_id", *cols])
    marks = ", ".join(["%s"] * (len(cols) + 1))
    return conn.execute(
        f"INSERT INTO mailboxes ({names}) VALUES ({marks}) RETURNING {ACCOUNT_COLUMNS}",
        (org_id, *cols.values()),
    ).fetchone()


def update_account(
    conn: Connection,
    org_id: UUID,
    mailbox_id: int,
    values: dict[str, Any],
    password_enc: bytes | None,
) -> dict[str, Any] | None:
    """Change the given fields (the password only when ``password_enc`` is given)."""
    cols = _assignments(values, password_enc)
    if not cols:
        return get_account(conn, org_id, mailbox_id)
    sets = ", ".join(f"{name} = %s" for name in cols)
    return conn.execute(
        f"""UPDATE mailboxes SET {sets} WHERE org_id = %s AND id = %s
            RETURNING {ACCOUNT_COLUMNS}""",
        (*cols.values(), org_id, mailbox_id),
    ).fetchone()


def delete_account(conn: Connection, org_id: UUID, mailbox_id: int) -> bool:
    """Delete the mailbox (its messages stay, unlinked, unless deleted first)."""
    row = conn.execute(
        "DELETE FROM mailboxes WHERE org_id = %s AND id = %s RETURNING id", (org_id, mailbox_id)
    ).fetchone()
    return row is not None


# --- the ``004_…`` mailbox admin (its reads are ``store.mailbox_admin``) ----------------

EDITABLE = (
    "name", "address", "aliases", "inbox_name", "imap_host", "imap_port", "imap_username",
    "imap_encryption", "sync_folders", "mark_seen", "is_active", "smtp_host", "smtp_port",
    "smtp_username", "smtp_tls",
)  # fmt: skip
# The secret a client may set, by the name the API uses, and its encrypted column.
SECRET_COLUMNS = {
    "imap_password": "imap_password_enc",
    "smtp_password": "smtp_password_enc",
    "oauth_client_secret": "oauth_client_secret_enc",
}


def insert_editable(conn: Connection, org_id: UUID, values: dict[str, Any]) -> int:
    names = [n for n in EDITABLE if n in values]
    row = conn.execute(
        f"""INSERT INTO mailboxes (org_id, {", ".join(names)})
            VALUES (%(org)s, {", ".join(f"%({n})s" for n in names)}) RETURNING id""",
        {"org": org_id, **{n: values[n] for n in names}},
    ).fetchone()
    return int(row["id"])


def update_editable(
    conn: Connection, org_id: UUID, mailbox_id: int, values: dict[str, Any]
) -> bool:
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


def record_sync_error(conn: Connection, mailbox_id: int, error: str) -> None:
    conn.execute(
        "UPDATE mailboxes SET last_error = %s, last_error_at = now() WHERE id = %s",
        (error, mailbox_id),
    )


def record_sync_success(conn: Connection, mailbox_id: int) -> None:
    """Stamp ``last_sync_at``; the mailbox's error clears once no folder is failing."""
    conn.execute(
        """UPDATE mailboxes SET last_sync_at = now(),
               last_error = CASE WHEN EXISTS (SELECT 1 FROM mailbox_folders f
                   WHERE f.mailbox_id = mailboxes.id AND f.last_error IS NOT NULL
                     AND f.folder = ANY(mailboxes.sync_folders))
                 THEN last_error END
           WHERE id = %s""",
        (mailbox_id,),
    )
