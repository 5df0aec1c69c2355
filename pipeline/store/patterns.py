"""SQL for an organization's own ``pattern_rules`` (external ticket-id formats)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.mail.patterns import BUILTIN_RULES, PatternRule


def list_own(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM pattern_rules WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def active_rules(conn: Connection, org_id: UUID) -> list[PatternRule]:
    """The built-in rules followed by the organization's active ones."""
    own = [
        PatternRule(r["key"], r["name"], r["format"], r["id"])
        for r in list_own(conn, org_id)
        if r["is_active"]
    ]
    return [*BUILTIN_RULES, *own]


def get(conn: Connection, org_id: UUID, rule_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM pattern_rules WHERE org_id = %s AND id = %s", (org_id, rule_id)
    ).fetchone()


def create(
    conn: Connection, org_id: UUID, key: str, name: str, fmt: str, is_active: bool = True
) -> int | None:
    """The new rule's id; ``None`` when the organization already has a rule ``key``."""
    row = conn.execute(
        """INSERT INTO pattern_rules (org_id, key, name, format, is_active)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT (org_id, key) DO NOTHING RETURNING id""",
        (org_id, key, name, fmt, is_active),
    ).fetchone()
    return int(row["id"]) if row else None


def delete(conn: Connection, org_id: UUID, rule_id: int) -> bool:
    cur = conn.execute("DELETE FROM pattern_rules WHERE org_id = %s AND id = %s", (org_id, rule_id))
    return cur.rowcount == 1
