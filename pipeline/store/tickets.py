"""SQL for tickets, their messages and their tracking events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection


def number_sequence(org_id: UUID) -> str:
    """The per-organization sequence that numbers its tickets (see ``create_number_sequence``)."""
    return f"ticket_numbers_{org_id.hex}"


def create_number_sequence(conn: Connection, org_id: UUID) -> None:
    """Ticket numbers come from a sequence per organization: a counter row would be locked
    by every ticket-creating transaction until it commits, serialising them all."""
    conn.execute(f'CREATE SEQUENCE IF NOT EXISTS "{number_sequence(org_id)}"')


def create(
    conn: Connection,
    org_id: UUID,
    *,
    subject: str,
    contact_id: int | None,
    mailbox_id: int | None,
    source_message_id: int | None,
    status: str = "new",
    customer_id: int | None = None,
) -> int | None:
    """Open a ticket; ``None`` if one already exists for ``source_message_id``."""
    row = conn.execute(
        """INSERT INTO tickets (org_id, number, mailbox_id, subject, contact_id, source_message_id,
                                status, customer_id)
           VALUES (%s, nextval(%s::regclass), %s, %s, %s, %s, %s, %s)
           ON CONFLICT (source_message_id) DO NOTHING RETURNING id""",
        (
            org_id,
            number_sequence(org_id),
            mailbox_id,
            subject,
            contact_id,
            source_message_id,
            status,
            customer_id,
        ),
    ).fetchone()
    return int(row["id"]) if row else None


def get(conn: Connection, org_id: UUID, ticket_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM tickets WHERE org_id = %s AND id = %s", (org_id, ticket_id)
    ).fetchone()


def add_message(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    *,
    contact_id: int | None,
    from_address: str | None,
    from_name: str | None,
    body_text: str,
    body_html: str | None,
    message_id: int | None,
    kind: str = "external",
) -> int | None:
    """Add a ticket message; ``None`` if message ``message_id`` is already on a ticket."""
    row = conn.execute(
        """INSERT INTO ticket_messages (org_id, ticket_id, type, contact_id, from_address,
                                        from_name, body_text, body_html, message_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (message_id) DO NOTHING RETURNING id""",
        (
            org_id,
            ticket_id,
            kind,
            contact_id,
            from_address,
            from_name,
            body_text,
            body_html,
            message_id,
        ),
    ).fetchone()
    return int(row["id"]) if row else None


def link(conn: Connection, org_id: UUID, ticket_id: int, other_id: int) -> None:
    """Link two tickets both ways (idempotent)."""
    conn.execute(
        """INSERT INTO ticket_links (org_id, ticket_id, linked_ticket_id)
           VALUES (%(org)s, %(a)s, %(b)s), (%(org)s, %(b)s, %(a)s)
           ON CONFLICT DO NOTHING""",
        {"org": org_id, "a": ticket_id, "b": other_id},
    )


def track(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    kind: str,
    *,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        """INSERT INTO tracking_events (org_id, ticket_id, kind, message_id, data)
           VALUES (%s, %s, %s, %s, %s)""",
        (org_id, ticket_id, kind, message_id, Jsonb(data or {})),
    )


def find_by_message_ids(conn: Connection, org_id: UUID, ids: list[str]) -> dict[str, Any] | None:
    """The ticket a stored or sent message with one of ``ids`` belongs to (latest first)."""
    if not ids:
        return None
    return conn.execute(
        """SELECT t.id, t.status, src.matched FROM (
               SELECT ticket_id, message_id AS matched, received_at AS at FROM messages
                WHERE org_id = %(org)s AND message_id = ANY(%(ids)s) AND ticket_id IS NOT NULL
               UNION ALL
               SELECT ticket_id, message_id, created_at FROM sent_mails
                WHERE org_id = %(org)s AND message_id = ANY(%(ids)s) AND ticket_id IS NOT NULL
           ) src JOIN tickets t ON t.id = src.ticket_id
           ORDER BY src.at DESC LIMIT 1""",
        {"org": org_id, "ids": ids},
    ).fetchone()


def list_page(
    conn: Connection, org_id: UUID, page: int, per_page: int, status: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """One page of tickets, most recently updated first, and the total count."""
    where = "t.org_id = %(org)s AND (%(status)s::text IS NULL OR t.status = %(status)s)"
    params = {"org": org_id, "status": status, "limit": per_page, "offset": (page - 1) * per_page}
    rows = conn.execute(
        f"""SELECT t.*, c.email AS contact_email, c.name AS contact_name,
                   m.inbox_name, m.address AS mailbox_address
            FROM tickets t LEFT JOIN contacts c ON c.id = t.contact_id
            LEFT JOIN mailboxes m ON m.id = t.mailbox_id
            WHERE {where} ORDER BY t.updated_at DESC, t.id DESC
            LIMIT %(limit)s OFFSET %(offset)s""",
        params,
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM tickets t WHERE {where}", params).fetchone()
    return rows, total["n"]


def detail(conn: Connection, org_id: UUID, ticket_id: int) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT t.*, c.email AS contact_email, c.name AS contact_name,
                  m.inbox_name, m.address AS mailbox_address
           FROM tickets t LEFT JOIN contacts c ON c.id = t.contact_id
           LEFT JOIN mailboxes m ON m.id = t.mailbox_id
           WHERE t.org_id = %s AND t.id = %s""",
        (org_id, ticket_id),
    ).fetchone()


def messages_of(conn: Connection, org_id: UUID, ticket_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT tm.*, COALESCE(
                      (SELECT json_agg(json_build_object('id', a.id, 'filename', a.filename,
                               'mime_type', a.mime_type, 'file_size', a.size) ORDER BY a.position)
                       FROM attachments a WHERE a.ticket_message_id = tm.id), '[]') AS attachments
           FROM ticket_messages tm WHERE tm.org_id = %s AND tm.ticket_id = %s
           ORDER BY tm.created_at, tm.id""",
        (org_id, ticket_id),
    ).fetchall()
