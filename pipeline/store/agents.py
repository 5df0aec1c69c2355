"""SQL for ``agents``, the one module that writes them: the people who work on tickets."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store import rows

FIELDS = ("email", "name", "external_id", "is_active")


def create(conn: Connection, org_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    columns, holders, params = rows.insert_columns(org_id, values, FIELDS)
    return conn.execute(
        f"INSERT INTO agents ({columns}) VALUES ({holders}) RETURNING *", params
    ).fetchone()


def update(
    conn: Connection, org_id: UUID, agent_id: int, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply ``values`` and return the row; ``None`` when the organization has no such row."""
    sets, params = rows.assignments(values, FIELDS)
    if not sets:
        return rows.get(conn, "agents", org_id, agent_id)
    return conn.execute(
        f"UPDATE agents SET {sets} WHERE org_id = %s AND id = %s RETURNING *",
        (*params, org_id, agent_id),
    ).fetchone()
