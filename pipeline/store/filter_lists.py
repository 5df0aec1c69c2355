"""The organization's filter lists: ignored subjects and excluded sender addresses/domains."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

#: table → the column holding the entry (compared case-insensitively)
LISTS = {"ignored_subjects": "subject", "excluded_emails": "email"}


def entries(conn: Connection, table: str, org_id: UUID) -> list[dict[str, Any]]:
    column = LISTS[table]
    return conn.execute(
        f"SELECT id, {column}, created_at FROM {table} WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def add(conn: Connection, table: str, org_id: UUID, value: str) -> dict[str, Any] | None:
    """Add ``value``; ``None`` when the list already has it (ignoring case)."""
    column = LISTS[table]
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s || %s::text))", (table, org_id))
    exists = conn.execute(
        f"SELECT 1 FROM {table} WHERE org_id = %s AND lower({column}) = lower(%s)",
        (org_id, value),
    ).fetchone()
    if exists:
        return None
    return conn.execute(
        f"INSERT INTO {table} (org_id, {column}) VALUES (%s, %s) RETURNING id, {column}, created_at",
        (org_id, value),
    ).fetchone()


def remove(conn: Connection, table: str, org_id: UUID, entry_id: int) -> bool:
    cur = conn.execute(f"DELETE FROM {table} WHERE org_id = %s AND id = %s", (org_id, entry_id))
    return cur.rowcount == 1
