"""The organization's ignored subjects and excluded emails: the lists the filter stage
checks, as an admin edits them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

# table → its value column; names come from this module only.
LISTS = {"ignored_subjects": "subject", "excluded_emails": "email"}


def list_entries(conn: Connection, org_id: UUID, table: str) -> list[dict[str, Any]]:
    column = LISTS[table]
    return conn.execute(
        f"SELECT id, {column}, created_at FROM {table} WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def add_entry(conn: Connection, org_id: UUID, table: str, value: str) -> dict[str, Any]:
    column = LISTS[table]
    return conn.execute(
        f"""INSERT INTO {table} (org_id, {column}) VALUES (%s, %s)
            RETURNING id, {column}, created_at""",
        (org_id, value),
    ).fetchone()


def find_entry(conn: Connection, org_id: UUID, table: str, value: str) -> dict[str, Any] | None:
    """The entry equal to ``value`` ignoring case (lists hold each value once)."""
    column = LISTS[table]
    return conn.execute(
        f"""SELECT id, {column}, created_at FROM {table}
            WHERE org_id = %s AND lower({column}) = lower(%s)""",
        (org_id, value),
    ).fetchone()


def delete_entry(conn: Connection, org_id: UUID, table: str, entry_id: int) -> bool:
    cur = conn.execute(f"DELETE FROM {table} WHERE org_id = %s AND id = %s", (org_id, entry_id))
    return cur.rowcount == 1
