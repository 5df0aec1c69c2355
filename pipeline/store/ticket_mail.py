"""A mail put on a ticket in one statement: the sender's contact, the ticket (opened once,
or counted as answered), the ticket message, the tracking event and the attachments.

Done as five statements this was a third of a message's round trips, and each one's
fixed price on both ends cost more than its work. Both statements are idempotent: run
again for the same message, they find the ticket and the ticket message and change
nothing.
"""

from __future__ import annotations

from typing import Any

from pipeline.db import Connection
from pipeline.records import Message
from pipeline.store.contacts import CONTACT_CTES, contact_params
from pipeline.store.tickets import number_sequence

# Needs ``ticket (id)``; adds ``linked`` (the new ticket message, if the mail was
# not on a ticket yet) and moves the mail's attachments to it.
_LINK_CTES = """
    linked AS (
        INSERT INTO ticket_messages (org_id, ticket_id, type, contact_id, from_address,
                                     from_name, body_text, body_html, message_id)
        SELECT %(org)s, ticket.id, 'external', (SELECT id FROM contact), %(from_address)s,
               %(from_name)s, %(body_text)s, %(body_html)s, %(message)s
        FROM ticket
        ON CONFLICT (message_id) DO NOTHING RETURNING id, ticket_id),
    moved AS (
        UPDATE attachments a SET ticket_id = linked.ticket_id, ticket_message_id = linked.id
        FROM linked WHERE %(has_attachments)s AND a.message_id = %(message)s)"""

_RESULT = """
SELECT id FROM ticket"""

OPEN_SQL = f"""
WITH {CONTACT_CTES},
    found AS (SELECT id FROM tickets WHERE source_message_id = %(message)s),
    opened AS (
        INSERT INTO tickets (org_id, number, mailbox_id, subject, contact_id,
                             source_message_id, status, customer_id, labels)
        SELECT %(org)s, nextval(%(sequence)s::regclass), %(mailbox)s, %(subject)s,
               (SELECT id FROM contact), %(message)s, 'new', %(customer)s, %(labels)s
        WHERE NOT EXISTS (SELECT 1 FROM found)
        ON CONFLICT (source_message_id) DO NOTHING RETURNING id),
    tracked AS (
        INSERT INTO tracking_events (org_id, ticket_id, kind, message_id)
        SELECT %(org)s, id, 'created', %(message)s FROM opened),
    ticket AS (SELECT id FROM opened UNION ALL SELECT id FROM found),
    {_LINK_CTES}
{_RESULT}"""

REPLY_SQL = f"""
WITH {CONTACT_CTES},
    ticket AS (SELECT id FROM tickets WHERE org_id = %(org)s AND id = %(ticket)s),
    {_LINK_CTES},
    answered AS (
        UPDATE tickets SET exchange_count = exchange_count + 1, pending_closure_at = NULL,
               status = 'reply', closed_at = NULL, latest_updated_at = now(),
               labels = labels || ARRAY(
                   SELECT l FROM unnest(%(labels)s::text[]) WITH ORDINALITY AS n(l, i)
                   WHERE l <> ALL(labels) ORDER BY i)
        WHERE id = (SELECT ticket_id FROM linked)),
    tracked AS (
        INSERT INTO tracking_events (org_id, ticket_id, kind, message_id)
        SELECT %(org)s, ticket_id, 'replied', %(message)s FROM linked)
{_RESULT}"""


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
        "sequence": number_sequence(msg.org_id),
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
