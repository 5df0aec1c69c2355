"""Changes agents and integrations make to tickets through the API, each written by the
owner of its table (``tickets``, ``ticket_agents``, ``ticket_messages``,
``tracking_events``).

Status changes, assignments and notes are *actions*: they move ``latest_updated_at`` and
leave a ``tracking_events`` row. Other edits (labels, tags, notes field, custom fields,
``store.tickets.set_fields``) only move ``updated_at`` (by trigger).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store import ticket_agents, ticket_messages, tickets, tracking_events


def lock(conn: Connection, org_id: UUID, ticket_id: int) -> dict[str, Any] | None:
    """The ticket row, locked for this transaction; ``None`` if not the organization's."""
    return conn.execute(
        "SELECT * FROM tickets WHERE org_id = %s AND id = %s FOR UPDATE", (org_id, ticket_id)
    ).fetchone()


def change_status(
    conn: Connection, org_id: UUID, ticket: dict[str, Any], status: str, agent_id: int | None
) -> None:
    """Move the ticket to ``status`` (a no-op when unchanged) and record it."""
    if ticket["status"] == status:
        return
    tickets.change_status(conn, ticket["id"], status)
    changes = {"from": ticket["status"], "to": status}
    tracking_events.track(
        conn, org_id, ticket["id"], "status_changed", agent_id=agent_id, data=changes
    )


def assign(
    conn: Connection, org_id: UUID, ticket_id: int, agent_ids: list[int], by_agent: int | None
) -> None:
    """Make ``agent_ids`` (checked by the caller) the ticket's agents and record the change."""
    before = ticket_agents.assigned(conn, ticket_id)
    wanted = sorted(set(agent_ids))
    if before == wanted:
        return
    ticket_agents.replace(conn, org_id, ticket_id, wanted)
    tickets.touch(conn, org_id, ticket_id)
    changes = {
        "added": [a for a in wanted if a not in before],
        "removed": [a for a in before if a not in wanted],
    }
    tracking_events.track(conn, org_id, ticket_id, "assigned", agent_id=by_agent, data=changes)


def add_note(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    body_text: str,
    body_html: str | None,
    agent_id: int | None,
) -> int:
    """Add an internal note (never sent to the customer) and record it; return its id."""
    note_id = ticket_messages.add_note(conn, org_id, ticket_id, body_text, body_html, agent_id)
    tickets.touch(conn, org_id, ticket_id)
    data = {"ticket_message_id": note_id}
    tracking_events.track(conn, org_id, ticket_id, "note_added", agent_id=agent_id, data=data)
    return note_id
