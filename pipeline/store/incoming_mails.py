"""SQL behind the ``000_…`` incoming mails: messages seen as mails awaiting a ticket."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from pipeline.db import Connection
from pipeline.records import Message, columns
from pipeline.store import attachments, blobs, messages

# Held mail (organization policy ``hold``) is what waits for a manual conversion.
FILTERS = {
    "out_ticket": "m.ticket_id IS NULL AND m.state = 'held'",
    "reply_to_closed_ticket": "m.reply_to_closed_ticket",
}

ITEM_COLUMNS = """m.id, m.message_id, COALESCE(m.from_address, m.envelope_from) AS sender,
    COALESCE(mb.address, m.envelope_to[1]) AS recipient, m.subject,
    COALESCE(m.body_html, m.body_text) AS body, m.ticket_id, m.reply_to_closed_ticket,
    m.analysis, m.notified, m.created_at, m.updated_at"""


def list_page(
    conn: Connection, org_id: UUID, kind: str | None, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of the organization's mails (newest first) matching filter ``kind``."""
    where = f"m.org_id = %(org)s AND {FILTERS.get(kind or '', 'true')}"
    params = {"org": org_id, "limit": per_page, "offset": (page - 1) * per_page}
    rows = conn.execute(
        f"""SELECT {ITEM_COLUMNS} FROM messages m LEFT JOIN mailboxes mb ON mb.id = m.mailbox_id
            WHERE {where} ORDER BY m.created_at DESC, m.id DESC
            LIMIT %(limit)s OFFSET %(offset)s""",
        params,
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM messages m WHERE {where}", params).fetchone()
    return rows, total["n"]


def lock(conn: Connection, org_id: UUID, message_id: int) -> Message | None:
    """The message, locked against the pipeline's workers until the transaction ends."""
    with conn.cursor(row_factory=class_row(Message)) as cur:
        return cur.execute(
            f"SELECT {columns(Message)} FROM messages WHERE org_id = %s AND id = %s FOR UPDATE",
            (org_id, message_id),
        ).fetchone()


def delete(conn: Connection, org_id: UUID, message_id: int) -> bool:
    """Delete a mail; attachments already moved to a ticket stay with the ticket.

    Returns ``False`` when the organization has no such mail.
    """
    attachments.keep_ticket_attachments(conn, org_id, message_id)
    digest = messages.delete_one(conn, org_id, message_id)
    if digest is None:
        return False
    blobs.delete_unreferenced(conn, [digest])
    return True
