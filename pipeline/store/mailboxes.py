"""Mailboxes and the resolution of recipient addresses to them."""

from __future__ import annotations

from uuid import UUID

from psycopg.rows import class_row

from pipeline.db import Connection
from pipeline.records import Mailbox, columns


def base_address(address: str) -> str:
    """``support+abc@example.com`` → ``support@example.com`` (lower-cased)."""
    local, at, domain = address.strip().strip("<>").rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}".lower()


def find_by_address(conn: Connection, address: str) -> Mailbox | None:
    """The mailbox that receives for ``address`` or its plus-addressed form."""
    wanted = base_address(address)
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        return cur.execute(
            f"""SELECT {columns(Mailbox)} FROM mailboxes
                WHERE lower(address) = %(a)s OR %(a)s = ANY(aliases) LIMIT 1""",
            {"a": wanted},
        ).fetchone()


def get(conn: Connection, org_id: UUID, mailbox_id: int) -> Mailbox | None:
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        return cur.execute(
            f"SELECT {columns(Mailbox)} FROM mailboxes WHERE org_id = %s AND id = %s",
            (org_id, mailbox_id),
        ).fetchone()


def create(conn: Connection, org_id: UUID, address: str, name: str | None = None) -> Mailbox:
    with conn.cursor(row_factory=class_row(Mailbox)) as cur:
        row = cur.execute(
            f"""INSERT INTO mailboxes (org_id, name, address) VALUES (%s, %s, %s)
                RETURNING {columns(Mailbox)}""",
            (org_id, name or address, address.strip().lower()),
        ).fetchone()
    assert row is not None
    return row
