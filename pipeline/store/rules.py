"""SQL for an organization's filter rules: excluded senders and ignored subjects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pipeline.db import Connection


@dataclass(frozen=True)
class FilterRules:
    """Everything the filter stage reads, in one round trip: the organization's rules,
    its flood settings, and how much mail the sender sent within the flood window."""

    excluded_emails: list[str]
    ignored_subjects: list[str]
    flood_limit: int
    flood_window_seconds: int
    recent_from_sender: int = 0


def filter_rules(
    conn: Connection,
    org_id: UUID,
    sender: str | None = None,
    until: datetime | None = None,
    exclude_id: int | None = None,
) -> FilterRules:
    """The rules; with ``sender``, also the count of its other non-duplicate messages
    received in the ``flood_window_seconds`` up to ``until``."""
    row = conn.execute(
        """SELECT o.flood_limit, o.flood_window_seconds,
                  ARRAY(SELECT email FROM excluded_emails e WHERE e.org_id = o.id
                        ORDER BY e.id) AS excluded,
                  ARRAY(SELECT subject FROM ignored_subjects s WHERE s.org_id = o.id
                        ORDER BY s.id) AS ignored,
                  (SELECT count(*) FROM messages m
                   WHERE %(sender)s::text IS NOT NULL AND m.org_id = o.id
                     AND m.from_address = %(sender)s AND m.id <> %(exclude)s
                     AND m.state <> 'duplicate' AND m.received_at <= %(until)s
                     AND m.received_at > %(until)s
                         - make_interval(secs => o.flood_window_seconds)) AS recent
           FROM organizations o WHERE o.id = %(org)s""",
        {
            "org": org_id,
            "sender": sender,
            "until": until or datetime.now(UTC),
            "exclude": exclude_id or 0,
        },
    ).fetchone()
    if row is None:
        return FilterRules([], [], 0, 0)
    return FilterRules(
        row["excluded"],
        row["ignored"],
        row["flood_limit"],
        row["flood_window_seconds"],
        int(row["recent"]),
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
