"""SQL for ``customers``, the one module that writes them: the companies contacts belong to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store import rows

FIELDS = ("name", "email", "external_ref")


def create(conn: Connection, org_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    columns, holders, params = rows.insert_columns(org_id, values, FIELDS)
    return conn.execute(
        f"INSERT INTO customers ({columns}) VALUES ({holders}) RETURNING *", params
    ).fetchone()


def update(
    conn: Connection, org_id: UUID, customer_id: int, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply ``values`` and return the row; ``None`` when the organization has no such row."""
    sets, params = rows.assignments(values, FIELDS, touch=True)
    return conn.execute(
        f"UPDATE customers SET {sets} WHERE org_id = %s AND id = %s RETURNING *",
        (*params, org_id, customer_id),
    ).fetchone()
