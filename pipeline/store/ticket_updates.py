"""Changes agents and integrations make to tickets through the API.

Status changes, assignments and notes are *actions*: they move ``latest_updated_at`` and
leave a ``tracking_events`` row. Other edits (labels, tags, notes field, custom fields)
only move ``updated_at`` (by trigger).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection

PLAIN_FIELDS = ("labels", "tags", "notes", "customer_id")
CLOSED = "closed"


def lock(conn: Connection, org_id: UUID, ticket_id: int) -> dict[str, Any] | None:
    """The ticket row, locked for this transaction; ``None`` if not the organization's."""
    return conn.execute(
        "SELECT * FROM tickets WHERE org_id = %s AND id = %s FOR UPDATE", (org_id, ticket_id)
    ).fetchone()


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


def change_status(
    conn: Connection, org_id: UUID, ticket: dict[str, Any], status: str, agent_id: int | None
) -> None:
    """Move the ticket to ``status`` (a no-op when unchanged) and record it."""
    if ticket["status"] == status:
        return
    conn.execute(
        """UPDATE tickets SET status = %s, latest_updated_at = now(),
                  closed_at = CASE WHEN %s THEN COALESCE(closed_at, now()) END,
                  pending_closure_at = CASE WHEN %s = 'pending' THEN pending_closure_at END
           WHERE id = %s""",
        (status, status == CLOSED, status, ticket["id"]),
    )
    record(
        conn,
        org_id,
        ticket["id"],
        "status_changed",
        agent_id,
        {"from": ticket["status"], "to": status},
    )


def assigned_agents(conn: Connection, ticket_id: int) -> list[int]:
    rows = conn.execute(
        "SELECT agent_id FROM ticket_agents WHERE ticket_id = %s ORDER BY agent_id", (ticket_id,)
    ).fetchall()
    return [r["agent_id"] for r in rows]


def assign(
    conn: Connection, org_id: UUID, ticket_id: int, agent_ids: list[int], by_agent: int | None
) -> None:
    """Make ``agent_ids`` (checked by the caller) the ticket's agents and record the change."""
    before = assigned_agents(conn, ticket_id)
    wanted = sorted(set(agent_ids))
    if before == wanted:
        return
    conn.execute(
        "DELETE FROM ticket_agents WHERE ticket_id = %s AND NOT (agent_id = ANY(%s))",
        (ticket_id, wanted),
    )
    conn.execute(
        """INSERT INTO ticket_agents (org_id, ticket_id, agent_id)
           SELECT %s, %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING""",
        (org_id, ticket_id, wanted),
    )
    conn.execute("UPDATE tickets SET latest_updated_at = now() WHERE id = %s", (ticket_id,))
    changes = {
        "added": [a for a in wanted if a not in before],
        "removed": [a for a in before if a not in wanted],
    }
    record(conn, org_id, ticket_id, "assigned", by_agent, changes)


def add_note(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    body_text: str,
    body_html: str | None,
    agent_id: int | None,
) -> int:
    """Add an internal note (never sent to the customer) and record it; return its id."""
    row = conn.execute(
        """INSERT INTO ticket_messages (org_id, ticket_id, type, agent_id, body_text, body_html)
           VALUES (%s, %s, 'internal', %s, %s, %s) RETURNING id""",
        (org_id, ticket_id, agent_id, body_text, body_html),
    ).fetchone()
    conn.execute("UPDATE tickets SET latest_updated_at = now() WHERE id = %s", (ticket_id,))
    record(conn, org_id, ticket_id, "note_added", agent_id, {"ticket_message_id": row["id"]})
    return int(row["id"])


def record(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    kind: str,
    agent_id: int | None,
    data: dict[str, Any],
) -> None:
    """One ``tracking_events`` row: the ticket's history, with the acting agent if known."""
    conn.execute(
        """INSERT INTO tracking_events (org_id, ticket_id, kind, agent_id, data)
           VALUES (%s, %s, %s, %s, %s)""",
        (org_id, ticket_id, kind, agent_id, Jsonb(data)),
    )
