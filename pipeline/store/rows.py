"""Column lists for simple org-scoped resource writes, and generic reads by id.

Each table's owner spells its own statement around these; column names come from the
owner's allow-list, never from a client, and values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from pipeline.db import Connection


def _pick(values: dict[str, Any], allowed: Iterable[str]) -> list[str]:
    return [name for name in allowed if name in values]


def insert_columns(
    org_id: UUID, values: dict[str, Any], allowed: Iterable[str]
) -> tuple[str, str, tuple[Any, ...]]:
    """``(columns, placeholders, params)`` of an INSERT of ``org_id`` and the allowed values."""
    names = _pick(values, allowed)
    columns = ", ".join(["org_id", *names])
    holders = ", ".join(["%s"] * (len(names) + 1))
    return columns, holders, (org_id, *(values[n] for n in names))


def assignments(
    values: dict[str, Any], allowed: Iterable[str], *, touch: bool = False
) -> tuple[str, tuple[Any, ...]]:
    """``(SET list, params)`` of the allowed values (``touch``: ``updated_at`` too); an empty
    list when there is nothing to set."""
    names = _pick(values, allowed)
    sets = [f"{n} = %s" for n in names] + (["updated_at = now()"] if touch else [])
    return ", ".join(sets), tuple(values[n] for n in names)


def get(conn: Connection, table: str, org_id: UUID, row_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT * FROM {table} WHERE org_id = %s AND id = %s", (org_id, row_id)
    ).fetchone()


def exists(conn: Connection, table: str, org_id: UUID, row_id: int) -> bool:
    """Whether the organization has row ``row_id`` in ``table``: for a 404 before the work."""
    row = conn.execute(
        f"SELECT 1 FROM {table} WHERE org_id = %s AND id = %s", (org_id, row_id)
    ).fetchone()
    return row is not None
