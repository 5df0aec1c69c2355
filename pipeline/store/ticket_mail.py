"""A mail put on a ticket in one statement: the sender's contact, the ticket (opened once,
or counted as answered), the ticket message, the tracking event and the attachments.

Done as five statements this was a third of a message's round trips, and each one's
fixed price on both ends cost more than its work. Both statements are idempotent: run
again for the same message, they find the ticket and the ticket message and change
nothing.

Each table's SQL is a fragment its owner module exports; this module only composes them.
"""

from __future__ import annotations

from typing import Any

from pipeline.db import Connection
from pipeline.records import Message
from pipeline.store import attachments, ticket_messages, tickets, tracking_events
from pipeline.store.contacts import CONTACT_CTES, contact_params

_TICKET_OPENED = """
    ticket AS (SELECT id FROM opened UNION ALL SELECT id FROM found)"""
_TICKET_GIVEN = """
    ticket AS (SELECT id FROM tickets WHERE org_id = %(org)s AND id = %(ticket)s)"""


def _statement(*ctes: str) -> str:
    """One statement: the CTEs in order, then the ticket's id."""
    return f"WITH {','.join(ctes)}\nSELECT id FROM ticket"


OPEN_SQL = _statement(
    CONTACT_CTES,
    tickets.OPEN_CTES,
    tracking_events.CREATED_CTE,
    _TICKET_OPENED,
    ticket_messages.LINK_CTE,
    attachments.MOVE_CTE,
)
REPLY_SQL = _statement(
    CONTACT_CTES,
    _TICKET_GIVEN,
    ticket_messages.LINK_CTE,
    attachments.MOVE_CTE,
    tickets.ANSWER_CTE,
    tracking_events.REPLIED_CTE,
)


def open_from(
    conn: Connection,
    msg: Message,
    *,
    subject: str,
    sender: str | None,
    labels: list[str],
    customer_id: int | None = None,
) -> int:
    """Open the ticket of ``msg`` (unless it exists) with the mail on it; its id."""
    params = {
        **_mail_params(msg, sender, labels),
        "sequence": tickets.number_sequence(msg.org_id),
        "mailbox": msg.mailbox_id,
        "subject": subject,
        "customer": customer_id,
    }
    row = conn.execute(OPEN_SQL, params).fetchone()
    if row is None:  # opened by a transaction that committed after this statement began
        row = conn.execute(OPEN_SQL, params).fetchone()
    assert row is not None
    return int(row["id"])


def reply_to(
    conn: Connection, msg: Message, ticket_id: int, *, sender: str | None, labels: list[str]
) -> bool:
    """Put ``msg`` on ticket ``ticket_id`` as the customer's answer, counted once;
    ``False`` if the organization has no such ticket."""
    params = {**_mail_params(msg, sender, labels), "ticket": ticket_id}
    return conn.execute(REPLY_SQL, params).fetchone() is not None


def _mail_params(msg: Message, sender: str | None, labels: list[str]) -> dict[str, Any]:
    return {
        **contact_params(msg.org_id, sender, msg.from_name),
        "message": msg.id,
        "from_address": msg.from_address,
        "from_name": msg.from_name,
        "body_text": msg.new_text or msg.body_text or "",
        "body_html": msg.body_html,
        "has_attachments": bool(msg.attachment_count),
        "labels": list(dict.fromkeys(labels)),
    }
