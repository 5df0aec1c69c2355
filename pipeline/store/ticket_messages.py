"""SQL for ``ticket_messages``, the one module that writes them: the mails and notes on a
ticket (read with the ticket, ``store.tickets.messages_of``)."""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection

# The CTE ``linked (id, ticket_id)``: mail %(message)s on the ticket in CTE ``ticket (id)``
# from the contact in CTE ``contact (id)``; empty if the mail was on a ticket already.
LINK_CTE = """
    linked AS (
        INSERT INTO ticket_messages (org_id, ticket_id, type, contact_id, from_address,
                                     from_name, body_text, body_html, message_id)
        SELECT %(org)s, ticket.id, 'external', (SELECT id FROM contact), %(from_address)s,
               %(from_name)s, %(body_text)s, %(body_html)s, %(message)s
        FROM ticket
        ON CONFLICT (message_id) DO NOTHING RETURNING id, ticket_id)"""


def add(
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


def add_note(
    conn: Connection,
    org_id: UUID,
    ticket_id: int,
    body_text: str,
    body_html: str | None,
    agent_id: int | None,
) -> int:
    """Add an internal note (never sent to the customer); return its id."""
    row = conn.execute(
        """INSERT INTO ticket_messages (org_id, ticket_id, type, agent_id, body_text, body_html)
           VALUES (%s, %s, 'internal', %s, %s, %s) RETURNING id""",
        (org_id, ticket_id, agent_id, body_text, body_html),
    ).fetchone()
    return int(row["id"])


def set_agent(conn: Connection, org_id: UUID, ticket_message_id: int, agent_id: int) -> None:
    """Name the agent who wrote a ticket message (a note added through the API)."""
    conn.execute(
        "UPDATE ticket_messages SET agent_id = %s WHERE org_id = %s AND id = %s",
        (agent_id, org_id, ticket_message_id),
    )
