"""Read queries behind the tickets API: filtered lists, assigned agents, links, history,
and a sender's open ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pipeline.db import Connection

OPEN_STATUSES = ("new", "reply", "pending", "on-hold")

SELECT = """SELECT t.*, c.email AS contact_email, c.name AS contact_name,
       m.inbox_name, m.address AS mailbox_address,
       COALESCE((SELECT array_agg(ta.agent_id ORDER BY ta.agent_id) FROM ticket_agents ta
                 WHERE ta.ticket_id = t.id), '{}') AS agent_ids
FROM tickets t LEFT JOIN contacts c ON c.id = t.contact_id
LEFT JOIN mailboxes m ON m.id = t.mailbox_id"""


@dataclass(frozen=True)
class TicketFilters:
    statuses: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()  # every label must be present
    mailbox_id: int | None = None
    contact_id: int | None = None
    customer_id: int | None = None
    agent_id: int | None = None
    updated_since: datetime | None = None


def _where(org_id: UUID, f: TicketFilters) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"org": org_id}
    clauses = ["t.org_id = %(org)s"]

    def add(clause: str, name: str, value: Any) -> None:
        if value is not None and value != []:
            clauses.append(clause)
            params[name] = value

    add("t.status = ANY(%(statuses)s)", "statuses", list(f.statuses))
    add("t.labels @> %(labels)s::text[]", "labels", list(f.labels))
    add("t.mailbox_id = %(mailbox)s", "mailbox", f.mailbox_id)
    add("t.contact_id = %(contact)s", "contact", f.contact_id)
    add("t.customer_id = %(customer)s", "customer", f.customer_id)
    add(
        "EXISTS (SELECT 1 FROM ticket_agents ta WHERE ta.ticket_id = t.id AND ta.agent_id = %(agent)s)",
        "agent",
        f.agent_id,
    )
    add("t.updated_at >= %(since)s", "since", f.updated_since)
    return " AND ".join(clauses), params


def list_page(
    conn: Connection, org_id: UUID, page: int, per_page: int, filters: TicketFilters
) -> tuple[list[dict[str, Any]], int]:
    """One page of tickets, most recently updated first, and the total count."""
    where, params = _where(org_id, filters)
    rows = conn.execute(
        f"""{SELECT} WHERE {where} ORDER BY t.updated_at DESC, t.id DESC
            LIMIT %(limit)s OFFSET %(offset)s""",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM tickets t WHERE {where}", params).fetchone()
    return rows, total["n"]


def detail(conn: Connection, org_id: UUID, ticket_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"{SELECT} WHERE t.org_id = %s AND t.id = %s", (org_id, ticket_id)
    ).fetchone()


def events_of(conn: Connection, org_id: UUID, ticket_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, kind, message_id, agent_id, data, created_at FROM tracking_events
           WHERE org_id = %s AND ticket_id = %s ORDER BY created_at, id""",
        (org_id, ticket_id),
    ).fetchall()


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
