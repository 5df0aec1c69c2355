"""SQL for ``category_rules`` and ``message_categories``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from pipeline.db import Connection


def active(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    """The organization's active rules of active categories, in evaluation order."""
    return conn.execute(
        """SELECT r.id, r.category_id, r.field, r.header_name, r.operator, r.value, r.labels,
                  r.stop_processing
           FROM category_rules r JOIN categories c ON c.id = r.category_id
           WHERE r.org_id = %s AND r.is_active AND c.is_active
           ORDER BY r.position, r.id""",
        (org_id,),
    ).fetchall()


def assign(
    conn: Connection, org_id: UUID, message_id: int, pairs: Iterable[tuple[int, int]]
) -> None:
    """Put the message in each ``(category_id, rule_id)``'s category (idempotent)."""
    for category_id, rule_id in pairs:
        conn.execute(
            """INSERT INTO message_categories (message_id, category_id, org_id, rule_id)
               VALUES (%s, %s, %s, %s) ON CONFLICT (message_id, category_id) DO NOTHING""",
            (message_id, category_id, org_id, rule_id),
        )


def categories(conn: Connection, org_id: UUID, ids: list[int]) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, name, slug FROM categories WHERE org_id = %s AND id = ANY(%s)
           ORDER BY array_position(%s::bigint[], id)""",
        (org_id, ids, ids),
    ).fetchall()
