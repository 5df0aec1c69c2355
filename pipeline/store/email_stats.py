"""Counts behind ``GET /api/emails/stats``: totals, unread, attachments, folders, categories, days."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

SCOPE = "org_id = %(org)s AND (%(account)s::bigint IS NULL OR mailbox_id = %(account)s::bigint)"
DAYS = 30


def totals(conn: Connection, org_id: UUID, account_id: int | None) -> dict[str, Any]:
    return conn.execute(
        f"""SELECT count(*) AS total_emails,
                   count(*) FILTER (WHERE NOT is_read) AS unread_emails,
                   count(*) FILTER (WHERE has_attachments) AS with_attachments,
                   count(*) FILTER (WHERE is_starred) AS starred_emails,
                   count(*) FILTER (WHERE is_archived) AS archived_emails,
                   max(received_at) AS latest_email_at, min(received_at) AS oldest_email_at
            FROM messages WHERE {SCOPE}""",
        {"org": org_id, "account": account_id},
    ).fetchone()


def by_folder(conn: Connection, org_id: UUID, account_id: int | None) -> list[dict[str, Any]]:
    return conn.execute(
        f"""SELECT COALESCE(folder, 'INBOX') AS folder, count(*) AS count FROM messages
            WHERE {SCOPE} GROUP BY 1 ORDER BY count DESC, folder""",
        {"org": org_id, "account": account_id},
    ).fetchall()


def by_category(conn: Connection, org_id: UUID, account_id: int | None) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT c.id, c.name, c.slug, count(m.id) AS count
            FROM categories c
            LEFT JOIN message_categories mc ON mc.category_id = c.id
            LEFT JOIN messages m ON m.id = mc.message_id AND m.org_id = %(org)s
                 AND (%(account)s::bigint IS NULL OR m.mailbox_id = %(account)s::bigint)
            WHERE c.org_id = %(org)s GROUP BY c.id ORDER BY c.position, c.id""",
        {"org": org_id, "account": account_id},
    ).fetchall()


def by_day(conn: Connection, org_id: UUID, account_id: int | None) -> list[dict[str, Any]]:
    """Mail received per UTC day over the last ``DAYS`` days (days without mail omitted)."""
    return conn.execute(
        f"""SELECT (received_at AT TIME ZONE 'UTC')::date AS date, count(*) AS count
            FROM messages WHERE {SCOPE}
              AND received_at >= (now() AT TIME ZONE 'UTC')::date - %(days)s
            GROUP BY 1 ORDER BY 1""",
        {"org": org_id, "account": account_id, "days": DAYS - 1},
    ).fetchall()
