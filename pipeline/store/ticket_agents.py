"""SQL for ``ticket_agents``, the one module that writes them: who works on a ticket."""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection


def add(conn: Connection, org_id: UUID, ticket_id: int, agent_ids: list[int]) -> None:
    """Assign ``agent_ids`` (checked by the caller) too; those already assigned stay once."""
    conn.execute(
        """INSERT INTO ticket_agents (org_id, ticket_id, agent_id)
           SELECT %s, %s, unnest(%s::bigint[]) ON CONFLICT DO NOTHING""",
        (org_id, ticket_id, agent_ids),
    )


def replace(conn: Connection, org_id: UUID, ticket_id: int, agent_ids: list[int]) -> None:
    """Make ``agent_ids`` (checked by the caller) exactly the ticket's agents."""
    conn.execute(
        "DELETE FROM ticket_agents WHERE ticket_id = %s AND NOT (agent_id = ANY(%s))",
        (ticket_id, agent_ids),
    )
    add(conn, org_id, ticket_id, agent_ids)


def assigned(conn: Connection, ticket_id: int) -> list[int]:
    """The ids of the ticket's agents, in order."""
    rows = conn.execute(
        "SELECT agent_id FROM ticket_agents WHERE ticket_id = %s ORDER BY agent_id", (ticket_id,)
    ).fetchall()
    return [r["agent_id"] for r in rows]
