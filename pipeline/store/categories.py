"""SQL for ``categories``, their ordered ``category_rules`` and the messages put in them
(``message_categories``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from pipeline.db import Connection

RULE_FIELDS = (
    "position",
    "field",
    "header_name",
    "operator",
    "value",
    "labels",
    "stop_processing",
    "is_active",
)
CATEGORY_FIELDS = ("name", "slug", "description", "color", "is_active", "position")


def list_all(
    conn: Connection, org_id: UUID, *, active_only: bool, with_counts: bool
) -> list[dict[str, Any]]:
    count = (
        "(SELECT count(*) FROM message_categories mc WHERE mc.category_id = c.id)"
        if with_counts
        else "NULL::bigint"
    )
    return conn.execute(
        f"""SELECT c.*, {count} AS email_count FROM categories c
            WHERE c.org_id = %s AND (NOT %s OR c.is_active)
            ORDER BY c.position, c.id""",
        (org_id, active_only),
    ).fetchall()


def get(conn: Connection, org_id: UUID, category_id: int) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT c.*, (SELECT count(*) FROM message_categories mc
                        WHERE mc.category_id = c.id) AS email_count
           FROM categories c WHERE c.org_id = %s AND c.id = %s""",
        (org_id, category_id),
    ).fetchone()


def slug_taken(conn: Connection, org_id: UUID, slug: str, except_id: int | None = None) -> bool:
    row = conn.execute(
        "SELECT 1 FROM categories WHERE org_id = %s AND slug = %s AND id IS DISTINCT FROM %s",
        (org_id, slug, except_id),
    ).fetchone()
    return row is not None


def create(conn: Connection, org_id: UUID, values: dict[str, Any]) -> int:
    names = [k for k in CATEGORY_FIELDS if k in values]
    row = conn.execute(
        f"""INSERT INTO categories (org_id, {", ".join(names)})
            VALUES (%s, {", ".join(["%s"] * len(names))}) RETURNING id""",
        (org_id, *(values[k] for k in names)),
    ).fetchone()
    return int(row["id"])


def update(conn: Connection, org_id: UUID, category_id: int, values: dict[str, Any]) -> bool:
    names = [k for k in CATEGORY_FIELDS if k in values]
    assignments = ", ".join([f"{k} = %s" for k in names] + ["updated_at = now()"])
    cur = conn.execute(
        f"UPDATE categories SET {assignments} WHERE org_id = %s AND id = %s",
        (*(values[k] for k in names), org_id, category_id),
    )
    return cur.rowcount == 1


def delete(conn: Connection, org_id: UUID, category_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM categories WHERE org_id = %s AND id = %s", (org_id, category_id)
    )
    return cur.rowcount == 1


def rules_of(conn: Connection, org_id: UUID, category_ids: list[int]) -> list[dict[str, Any]]:
    """The rules of ``category_ids`` in evaluation order."""
    return conn.execute(
        """SELECT * FROM category_rules WHERE org_id = %s AND category_id = ANY(%s)
           ORDER BY position, id""",
        (org_id, category_ids),
    ).fetchall()


def get_rule(conn: Connection, org_id: UUID, category_id: int, rule_id: int) -> dict | None:
    return conn.execute(
        "SELECT * FROM category_rules WHERE org_id = %s AND category_id = %s AND id = %s",
        (org_id, category_id, rule_id),
    ).fetchone()


def create_rule(conn: Connection, org_id: UUID, category_id: int, values: dict[str, Any]) -> int:
    names = [k for k in RULE_FIELDS if k in values]
    row = conn.execute(
        f"""INSERT INTO category_rules (org_id, category_id, {", ".join(names)})
            VALUES (%s, %s, {", ".join(["%s"] * len(names))}) RETURNING id""",
        (org_id, category_id, *(values[k] for k in names)),
    ).fetchone()
    return int(row["id"])


def update_rule(
    conn: Connection, org_id: UUID, category_id: int, rule_id: int, values: dict[str, Any]
) -> None:
    names = [k for k in RULE_FIELDS if k in values]
    if not names:
        return
    conn.execute(
        f"""UPDATE category_rules SET {", ".join(f"{k} = %s" for k in names)}
            WHERE org_id = %s AND category_id = %s AND id = %s""",
        (*(values[k] for k in names), org_id, category_id, rule_id),
    )


def delete_rule(conn: Connection, org_id: UUID, category_id: int, rule_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM category_rules WHERE org_id = %s AND category_id = %s AND id = %s",
        (org_id, category_id, rule_id),
    )
    return cur.rowcount == 1


def next_rule_position(conn: Connection, org_id: UUID) -> int:
    """After every existing rule: the categorize stage evaluates all of an organization's
    rules in one ``(position, id)`` order."""
    row = conn.execute(
        "SELECT COALESCE(max(position) + 1, 0) AS p FROM category_rules WHERE org_id = %s",
        (org_id,),
    ).fetchone()
    return int(row["p"])


def summaries(conn: Connection, org_id: UUID, ids: list[int]) -> list[dict[str, Any]]:
    """Id, name and slug of each of ``ids``, in that order."""
    return conn.execute(
        """SELECT id, name, slug FROM categories WHERE org_id = %s AND id = ANY(%s)
           ORDER BY array_position(%s::bigint[], id)""",
        (org_id, ids, ids),
    ).fetchall()


def unknown(conn: Connection, org_id: UUID, category_ids: list[int]) -> list[int]:
    """Those of ``category_ids`` that are not categories of the organization."""
    rows = conn.execute(
        "SELECT id FROM categories WHERE org_id = %s AND id = ANY(%s)", (org_id, category_ids)
    ).fetchall()
    known = {r["id"] for r in rows}
    return [c for c in category_ids if c not in known]


def assign_by_rules(
    conn: Connection, org_id: UUID, message_id: int, pairs: Iterable[tuple[int, int]]
) -> None:
    """Put the message in each ``(category_id, rule_id)``'s category (idempotent)."""
    for category_id, rule_id in pairs:
        conn.execute(
            """INSERT INTO message_categories (message_id, category_id, org_id, rule_id)
               VALUES (%s, %s, %s, %s) ON CONFLICT (message_id, category_id) DO NOTHING""",
            (message_id, category_id, org_id, rule_id),
        )


def set_for_message(
    conn: Connection, org_id: UUID, message_id: int, category_ids: list[int]
) -> None:
    """Replace the message's categories by ``category_ids`` (checked by the caller)."""
    conn.execute(
        """DELETE FROM message_categories
           WHERE org_id = %s AND message_id = %s AND NOT (category_id = ANY(%s))""",
        (org_id, message_id, category_ids),
    )
    conn.execute(
        """INSERT INTO message_categories (message_id, category_id, org_id)
           SELECT %s, unnest(%s::bigint[]), %s ON CONFLICT DO NOTHING""",
        (message_id, category_ids, org_id),
    )
