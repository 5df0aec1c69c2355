"""SQL for what an API client does to a ticket: customer, status, labels, agents, lookups.

Actions move ``latest_updated_at`` (003 ``latestUpdated``); every row change moves
``updated_at`` through the table's trigger.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

OPEN_STATUSES = ("new", "reply", "pending", "on-hold")


def set_customer(conn: Connection, org_id: UUID, ticket_id: int, customer_id: int) -> None:
    conn.execute(
        "UPDATE tickets SET customer_id = %s WHERE org_id = %s AND id = %s",
        (customer_id, org_id, ticket_id),
    )


def set_status(conn: Connection, org_id: UUID, ticket_id: int, status: str) -> None:
    conn.execute(
        """UPDATE tickets SET status = %(status)s, latest_updated_at = now(),
                  closed_at = CASE WHEN %(status)s = 'closed' THEN now() END
           WHERE org_id = %(org)s AND id = %(id)s""",
        {"status": status, "org": org_id, "id": ticket_id},
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


def assign_agents(conn: Connection, org_id: UUID, ticket_id: int, agent_ids: list[int]) -> None:
    conn.execute(
        """INSERT INTO ticket_agents (org_id, ticket_id, agent_id)
           SELECT %s, %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING""",
        (org_id, ticket_id, agent_ids),
    )
    conn.execute(
        "UPDATE tickets SET latest_updated_at = now() WHERE org_id = %s AND id = %s",
        (org_id, ticket_id),
    )


def find_open_by_sender(conn: Connection, org_id: UUID, mailbox_id: int, email: str) -> int | None:
    """The most recently updated open ticket of contact ``email`` in mailbox ``mailbox_id``."""
    row = conn.execute(
        """SELECT t.id FROM tickets t JOIN contacts c ON c.id = t.contact_id
           WHERE t.org_id = %s AND t.mailbox_id = %s AND lower(c.email) = lower(%s)
             AND t.status = ANY(%s)
           ORDER BY t.updated_at DESC, t.id DESC LIMIT 1""",
        (org_id, mailbox_id, email.strip(), list(OPEN_STATUSES)),
    ).fetchone()
    return row["id"] if row else None


def linked_ticket_ids(conn: Connection, org_id: UUID, ticket_id: int) -> list[int]:
    rows = conn.execute(
        """SELECT linked_ticket_id FROM ticket_links WHERE org_id = %s AND ticket_id = %s
           ORDER BY linked_ticket_id""",
        (org_id, ticket_id),
    ).fetchall()
    return [r["linked_ticket_id"] for r in rows]


def assigned_agents(conn: Connection, org_id: UUID, ticket_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT a.id, a.name, a.email FROM ticket_agents ta JOIN agents a ON a.id = ta.agent_id
           WHERE ta.org_id = %s AND ta.ticket_id = %s ORDER BY a.id""",
        (org_id, ticket_id),
    ).fetchall()


def set_message_agent(
    conn: Connection, org_id: UUID, ticket_message_id: int, agent_id: int
) -> None:
    """Name the agent who wrote a ticket message (a note added through the API)."""
    conn.execute(
        "UPDATE ticket_messages SET agent_id = %s WHERE org_id = %s AND id = %s",
        (agent_id, org_id, ticket_message_id),
    )
