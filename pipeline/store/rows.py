"""Generic org-scoped insert/update/delete for simple resource tables.

Table and column names come from code (each caller's allow-list), never from a client;
values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from pipeline.db import Connection


def _pick(values: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    return [name for name in allowed if name in values]


def insert(
    conn: Connection, table: str, org_id: UUID, values: dict[str, Any], allowed: Iterable[str]
) -> dict[str, Any]:
    names = _pick(values, allowed)
    columns = ", ".join(["org_id", *names])
    holders = ", ".join(["%s"] * (len(names) + 1))
    return conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({holders}) RETURNING *",
        (org_id, *(values[n] for n in names)),
    ).fetchone()


def update(
    conn: Connection,
    table: str,
    org_id: UUID,
    row_id: int,
    values: dict[str, Any],
    allowed: Iterable[str],
    *,
    touch: bool = False,
) -> dict[str, Any] | None:
    """Apply ``values`` and return the row; ``None`` when the organization has no such row."""
    names = _pick(values, allowed)
    sets = [f"{n} = %s" for n in names] + (["updated_at = now()"] if touch else [])
    if not sets:
        return get(conn, table, org_id, row_id)
    return conn.execute(
        f"UPDATE {table} SET {', '.join(sets)} WHERE org_id = %s AND id = %s RETURNING *",
        (*(values[n] for n in names), org_id, row_id),
    ).fetchone()


def get(conn: Connection, table: str, org_id: UUID, row_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT * FROM {table} WHERE org_id = %s AND id = %s", (org_id, row_id)
    ).fetchone()


def delete(conn: Connection, table: str, org_id: UUID, row_id: int) -> bool:
    cur = conn.execute(f"DELETE FROM {table} WHERE org_id = %s AND id = %s", (org_id, row_id))
    return cur.rowcount == 1
