"""SQL the thread matcher needs: tickets by number, participants, open tickets by sender."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

OPEN_CANDIDATES = 50


def ticket_by_number(conn: Connection, org_id: UUID, number: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT id, number, status FROM tickets WHERE org_id = %s AND number = %s",
        (org_id, number),
    ).fetchone()


def is_participant(conn: Connection, org_id: UUID, ticket_id: int, address: str) -> bool:
    """Whether ``address`` is the ticket's contact or wrote a message that is on it."""
    row = conn.execute(
        """SELECT EXISTS (
               SELECT 1 FROM tickets t JOIN contacts c ON c.id = t.contact_id
               WHERE t.org_id = %(org)s AND t.id = %(ticket)s AND lower(c.email) = %(addr)s
           ) OR EXISTS (
               SELECT 1 FROM ticket_messages tm
               WHERE tm.org_id = %(org)s AND tm.ticket_id = %(ticket)s
                 AND lower(tm.from_address) = %(addr)s
           ) OR EXISTS (
               SELECT 1 FROM messages m
               WHERE m.org_id = %(org)s AND m.ticket_id = %(ticket)s
                 AND lower(m.from_address) = %(addr)s
           ) AS yes""",
        {"org": org_id, "ticket": ticket_id, "addr": address.strip().lower()},
    ).fetchone()
    return bool(row["yes"])


def open_tickets_from(conn: Connection, org_id: UUID, address: str) -> list[dict[str, Any]]:
    """Open (not solved or closed) tickets whose contact is ``address``, latest first."""
    return conn.execute(
        """SELECT t.id, t.subject, t.status FROM contacts c
           JOIN tickets t ON t.org_id = c.org_id AND t.contact_id = c.id
           WHERE c.org_id = %(org)s AND lower(c.email) = %(addr)s
             AND t.status NOT IN ('solved', 'closed')
           ORDER BY t.latest_updated_at DESC, t.id DESC LIMIT %(limit)s""",
        {"org": org_id, "addr": address.strip().lower(), "limit": OPEN_CANDIDATES},
    ).fetchall()
