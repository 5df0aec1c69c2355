"""SQL for ``tickets`` and ``ticket_links``, the one module that writes them, and the
reads of a ticket with its messages.

Actions (status, labels, agents, notes) move ``latest_updated_at`` (003 ``latestUpdated``);
every row change moves ``updated_at`` through the table's trigger.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection

PLAIN_FIELDS = ("labels", "tags", "notes", "customer_id")
CLOSED = "closed"

# CTEs ``found (id)``, the ticket mail %(message)s opened already, and ``opened (id)``, the
# ticket opened from it now if not; need CTE ``contact (id)`` (``store.contacts``).
OPEN_CTES = """
    found AS (SELECT id FROM tickets WHERE source_message_id = %(message)s),
    opened AS (
        INSERT INTO tickets (org_id, number, mailbox_id, subject, contact_id,
                             source_message_id, status, customer_id, labels)
        SELECT %(org)s, nextval(%(sequence)s::regclass), %(mailbox)s, %(subject)s,
               (SELECT id FROM contact), %(message)s, 'new', %(customer)s, %(labels)s
        WHERE NOT EXISTS (SELECT 1 FROM found)
        ON CONFLICT (source_message_id) DO NOTHING RETURNING id)"""

# The CTE ``answered``: the ticket of the new ticket message in CTE ``linked (ticket_id)``
# counts the customer's answer once, reopens, and gains labels %(labels)s it lacks.
ANSWER_CTE = """
    answered AS (
        UPDATE tickets SET exchange_count = exchange_count + 1, pending_closure_at = NULL,
               status = 'reply', closed_at = NULL, latest_updated_at = now(),
               labels = labels || ARRAY(
                   SELECT l FROM unnest(%(labels)s::text[]) WITH ORDINALITY AS n(l, i)
                   WHERE l <> ALL(labels) ORDER BY i)
        WHERE id = (SELECT ticket_id FROM linked))"""


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


def link(conn: Connection, org_id: UUID, ticket_id: int, other_id: int) -> None:
    """Link two tickets both ways (idempotent)."""
    conn.execute(
        """INSERT INTO ticket_links (org_id, ticket_id, linked_ticket_id)
           VALUES (%(org)s, %(a)s, %(b)s), (%(org)s, %(b)s, %(a)s)
           ON CONFLICT DO NOTHING""",
        {"org": org_id, "a": ticket_id, "b": other_id},
    )


def set_customer(conn: Connection, org_id: UUID, ticket_id: int, customer_id: int) -> None:
    conn.execute(
        "UPDATE tickets SET customer_id = %s WHERE org_id = %s AND id = %s",
        (customer_id, org_id, ticket_id),
    )


def set_status(conn: Connection, org_id: UUID, ticket_id: int, status: str) -> None:
    """An API order's status: ``closed_at`` is now when closed, cleared otherwise."""
    conn.execute(
        """UPDATE tickets SET status = %(status)s, latest_updated_at = now(),
                  closed_at = CASE WHEN %(status)s = 'closed' THEN now() END
           WHERE org_id = %(org)s AND id = %(id)s""",
        {"status": status, "org": org_id, "id": ticket_id},
    )


def change_status(conn: Connection, ticket_id: int, status: str) -> None:
    """An agent's status change: a closed ticket keeps when it closed, and only a pending
    one keeps its ``pending_closure_at``."""
    conn.execute(
        """UPDATE tickets SET status = %s, latest_updated_at = now(),
                  closed_at = CASE WHEN %s THEN COALESCE(closed_at, now()) END,
                  pending_closure_at = CASE WHEN %s = 'pending' THEN pending_closure_at END
           WHERE id = %s""",
        (status, status == CLOSED, status, ticket_id),
    )


def add_labels(conn: Connection, org_id: UUID, ticket_id: int, labels: list[str]) -> None:
    """Add ``labels`` the ticket does not have yet, keeping their order."""
    conn.execute(
        """UPDATE tickets SET labels = labels || ARRAY(
               SELECT l FROM unnest(%s::text[]) WITH ORDINALITY AS u(l, n)
               WHERE NOT l = ANY(labels) ORDER BY n), latest_updated_at = now()
           WHERE org_id = %s AND id = %s""",
        (list(dict.fromkeys(labels)), org_id, ticket_id),
    )


def set_fields(conn: Connection, ticket_id: int, values: dict[str, Any]) -> None:
    """Write the plain fields and ``custom_fields`` present in ``values``."""
    names = [k for k in PLAIN_FIELDS if k in values]
    params = [values[k] for k in names]
    if "custom_fields" in values:
        names.append("custom_fields")
        params.append(Jsonb(values["custom_fields"]))
    if names:
        conn.execute(
            f"UPDATE tickets SET {', '.join(f'{n} = %s' for n in names)} WHERE id = %s",
            (*params, ticket_id),
        )


def touch(conn: Connection, org_id: UUID, ticket_id: int) -> None:
    """Record that an action (assignment, note) changed the ticket."""
    conn.execute(
        "UPDATE tickets SET latest_updated_at = now() WHERE org_id = %s AND id = %s",
        (org_id, ticket_id),
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
