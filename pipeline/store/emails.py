"""Read queries behind the emails API (always scoped to one organization)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

LIST_COLUMNS = """id, mailbox_id, imap_uid, message_id, folder, from_address, from_name,
    to_addresses, cc_addresses, reply_to, subject, received_at, read_at, is_read, is_starred,
    is_archived, has_attachments, attachment_count, state, ticket_id, channel, created_at,
    updated_at"""


def list_page(
    conn: Connection, org_id: UUID, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of an organization's emails, newest first, and the total count."""
    rows = conn.execute(
        f"""SELECT {LIST_COLUMNS} FROM messages WHERE org_id = %s
            ORDER BY received_at DESC, id DESC LIMIT %s OFFSET %s""",
        (org_id, per_page, (page - 1) * per_page),
    ).fetchall()
    total = conn.execute(
        "SELECT count(*) AS n FROM messages WHERE org_id = %s", (org_id,)
    ).fetchone()["n"]
    return rows, total


def get(conn: Connection, org_id: UUID, message_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"""SELECT {LIST_COLUMNS}, body_text, body_html, new_text, headers, analysis,
                   reply_to_closed_ticket, notified, last_error, envelope_from, envelope_to
            FROM messages WHERE org_id = %s AND id = %s""",
        (org_id, message_id),
    ).fetchone()


def mark_read(conn: Connection, org_id: UUID, message_id: int) -> None:
    conn.execute(
        """UPDATE messages SET is_read = true, read_at = COALESCE(read_at, now())
           WHERE org_id = %s AND id = %s AND NOT is_read""",
        (org_id, message_id),
    )


def attachments_of(conn: Connection, org_id: UUID, message_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, message_id, filename, original_filename, mime_type, size, is_inline,
                  content_id, created_at, blob_sha256
           FROM attachments WHERE org_id = %s AND message_id = %s ORDER BY position""",
        (org_id, message_id),
    ).fetchall()


def attachment(
    conn: Connection, org_id: UUID, attachment_id: int, message_id: int | None = None
) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT a.id, a.message_id, a.filename, a.original_filename, a.mime_type, a.size,
                  a.is_inline, a.content_id, a.created_at, a.blob_sha256
           FROM attachments a WHERE a.org_id = %s AND a.id = %s
             AND (%s::bigint IS NULL OR a.message_id = %s::bigint)""",
        (org_id, attachment_id, message_id, message_id),
    ).fetchone()


def categories_of(conn: Connection, org_id: UUID, message_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT c.id, c.name, c.slug FROM message_categories mc
           JOIN categories c ON c.id = mc.category_id
           WHERE mc.org_id = %s AND mc.message_id = %s ORDER BY c.position, c.id""",
        (org_id, message_id),
    ).fetchall()
