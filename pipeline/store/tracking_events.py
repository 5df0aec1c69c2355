"""SQL for ``tracking_events``, the one module that writes them: a ticket's history."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection

# The CTE ``tracked``: ``created`` for the ticket in CTE ``opened (id)``, by mail %(message)s.
CREATED_CTE = """
    tracked AS (
        INSERT INTO tracking_events (org_id, ticket_id, kind, message_id)
        SELECT %(org)s, id, 'created', %(message)s FROM opened)"""

# The CTE ``tracked``: ``replied`` for the ticket message in CTE ``linked (ticket_id)``.
REPLIED_CTE = """
    tracked AS (
        INSERT INTO tracking_events (org_id, ticket_id, kind, message_id)
        SELECT %(org)s, ticket_id, 'replied', %(message)s FROM linked)"""


def track(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    kind: str,
    *,
    message_id: int | None = None,
    agent_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """One event of ticket ``ticket_id``, with the mail or the acting agent if known."""
    conn.execute(
        """INSERT INTO tracking_events (org_id, ticket_id, kind, message_id, agent_id, data)
           VALUES (%s, %s, %s, %s, %s, %s)""",
        (org_id, ticket_id, kind, message_id, agent_id, Jsonb(data or {})),
    )
