"""Read queries over ``sent_mails`` for the ``004_…`` sent-mail audit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

SUMMARY = """id, ticket_id, kind, message_id, from_address, from_name, to_addresses,
    cc_addresses, bcc_addresses, subject, status, error, last_event, last_event_at,
    created_at, sent_at"""


def recent(conn: Connection, org_id: UUID, days: int, limit: int) -> list[dict[str, Any]]:
    return conn.execute(
        f"""SELECT {SUMMARY} FROM sent_mails
            WHERE org_id = %s AND created_at >= now() - make_interval(days => %s)
            ORDER BY created_at DESC, id DESC LIMIT %s""",
        (org_id, days, limit),
    ).fetchall()


def search(conn: Connection, org_id: UUID, text: str, limit: int) -> list[dict[str, Any]]:
    """Sent mail whose subject, sender, recipients or Message-ID contain ``text``."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return conn.execute(
        f"""SELECT {SUMMARY} FROM sent_mails
            WHERE org_id = %(org)s AND (subject ILIKE %(p)s OR from_address ILIKE %(p)s
                  OR message_id ILIKE %(p)s
                  OR array_to_string(to_addresses || cc_addresses || bcc_addresses, ' ') ILIKE %(p)s)
            ORDER BY created_at DESC, id DESC LIMIT %(limit)s""",
        {"org": org_id, "p": pattern, "limit": limit},
    ).fetchall()


def get(conn: Connection, org_id: UUID, sent_mail_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"""SELECT {SUMMARY}, reply_to, body_text, body_html, attachments, tags, attempts,
                   updated_at
            FROM sent_mails WHERE org_id = %s AND id = %s""",
        (org_id, sent_mail_id),
    ).fetchone()
