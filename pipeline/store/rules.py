"""SQL for an organization's filter rules: excluded senders and ignored subjects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipeline.db import Connection


@dataclass(frozen=True)
class FilterRules:
    """Everything the filter stage reads about an organization, in one round trip."""

    excluded_emails: list[str]
    ignored_subjects: list[str]
    flood_limit: int
    flood_window_seconds: int


def filter_rules(conn: Connection, org_id: UUID) -> FilterRules:
    row = conn.execute(
        """SELECT o.flood_limit, o.flood_window_seconds,
                  ARRAY(SELECT email FROM excluded_emails e WHERE e.org_id = o.id
                        ORDER BY e.id) AS excluded,
                  ARRAY(SELECT subject FROM ignored_subjects s WHERE s.org_id = o.id
                        ORDER BY s.id) AS ignored
           FROM organizations o WHERE o.id = %s""",
        (org_id,),
    ).fetchone()
    if row is None:
        return FilterRules([], [], 0, 0)
    return FilterRules(
        row["excluded"], row["ignored"], row["flood_limit"], row["flood_window_seconds"]
    )


def excluded_emails(conn: Connection, org_id: UUID) -> list[str]:
    """Patterns of senders to filter: ``user@host``, ``@host`` or ``user@*``."""
    rows = conn.execute(
        "SELECT email FROM excluded_emails WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()
    return [row["email"] for row in rows]


def ignored_subjects(conn: Connection, org_id: UUID) -> list[str]:
    """Subject substrings to filter (matched case-insensitively)."""
    rows = conn.execute(
        "SELECT subject FROM ignored_subjects WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()
    return [row["subject"] for row in rows]


def add_excluded_email(conn: Connection, org_id: UUID, pattern: str) -> dict[str, Any]:
    return conn.execute(
        """INSERT INTO excluded_emails (org_id, email) VALUES (%s, %s)
           RETURNING id, email, created_at""",
        (org_id, pattern.strip().lower()),
    ).fetchone()


def add_ignored_subject(conn: Connection, org_id: UUID, subject: str) -> dict[str, Any]:
    return conn.execute(
        """INSERT INTO ignored_subjects (org_id, subject) VALUES (%s, %s)
           RETURNING id, subject, created_at""",
        (org_id, subject.strip()),
    ).fetchone()


def delete_excluded_email(conn: Connection, org_id: UUID, rule_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM excluded_emails WHERE org_id = %s AND id = %s", (org_id, rule_id)
    )
    return cur.rowcount > 0


def delete_ignored_subject(conn: Connection, org_id: UUID, rule_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM ignored_subjects WHERE org_id = %s AND id = %s", (org_id, rule_id)
    )
    return cur.rowcount > 0
