"""SQL for the organization's filter lists, the one module that writes them:
``ignored_subjects`` and ``excluded_emails`` (sender addresses, domains ``@host`` and users
at any domain ``user@*``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pipeline.db import Connection

#: table → the column holding the entry (unique per organization, ignoring case)
LISTS = {"ignored_subjects": "subject", "excluded_emails": "email"}
# Each list's writes, its table spelled out; the unique index decides, so concurrent adds
# of one entry leave one row.
ADD_SQL = {
    "ignored_subjects": """INSERT INTO ignored_subjects (org_id, subject) VALUES (%s, %s)
        ON CONFLICT (org_id, lower(subject)) DO NOTHING RETURNING id, subject, created_at""",
    "excluded_emails": """INSERT INTO excluded_emails (org_id, email) VALUES (%s, %s)
        ON CONFLICT (org_id, lower(email)) DO NOTHING RETURNING id, email, created_at""",
}
REMOVE_SQL = {
    "ignored_subjects": "DELETE FROM ignored_subjects WHERE org_id = %s AND id = %s",
    "excluded_emails": "DELETE FROM excluded_emails WHERE org_id = %s AND id = %s",
}


@dataclass(frozen=True)
class FilterRules:
    """Everything the filter stage reads, in one round trip: the organization's lists,
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


def entries(conn: Connection, table: str, org_id: UUID) -> list[dict[str, Any]]:
    column = LISTS[table]
    return conn.execute(
        f"SELECT id, {column}, created_at FROM {table} WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def add(conn: Connection, table: str, org_id: UUID, value: str) -> dict[str, Any] | None:
    """Add ``value`` (trimmed; a sender pattern lower-cased); ``None`` when the list
    already has it, ignoring case."""
    value = value.strip().lower() if table == "excluded_emails" else value.strip()
    return conn.execute(ADD_SQL[table], (org_id, value)).fetchone()


def remove(conn: Connection, table: str, org_id: UUID, entry_id: int) -> bool:
    cur = conn.execute(REMOVE_SQL[table], (org_id, entry_id))
    return cur.rowcount == 1
