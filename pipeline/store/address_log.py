"""The ``003_…`` ``listTicketsEmails`` feed: every mail received or sent in a time window,
with its addresses, in (created millisecond, key) order for keyset pagination.

Inbound rows come from ``messages`` (duplicates left out), outbound from ``sent_mails``
(failed sends left out). The two id spaces are merged into one cursor key: ``2 * id`` for
a received mail, ``2 * id + 1`` for a sent one.

A sent mail's ``inboxName`` is the inbox it went out from: the mailbox whose address (or
alias) is its From, else its ticket's mailbox, else that of the mail it answered; ``""``
when none of them names one (mail sent through the API from an address no mailbox has).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pipeline.db import Connection

FEED = """
SELECT m.id * 2 AS cursor_key, floor(extract(epoch FROM m.received_at) * 1000)::bigint AS created_ms,
       m.received_at AS created_at, COALESCE(mb.inbox_name, '') AS inbox_name, m.from_address, m.from_name,
       m.to_addresses AS to_list, m.cc_addresses AS cc_list, m.envelope_to, '[]'::jsonb AS bcc_list,
       m.ticket_id
FROM messages m LEFT JOIN mailboxes mb ON mb.id = m.mailbox_id
WHERE m.org_id = %(org)s AND m.state <> 'duplicate'
  AND m.received_at >= %(start)s AND m.received_at < %(end)s
UNION ALL
SELECT s.id * 2 + 1, floor(extract(epoch FROM s.created_at) * 1000)::bigint,
       s.created_at, COALESCE(
           (SELECT f.inbox_name FROM mailboxes f WHERE f.org_id = s.org_id
              AND (lower(f.address) = lower(s.from_address) OR lower(s.from_address) = ANY(f.aliases))
            ORDER BY f.id LIMIT 1),
           mb.inbox_name, rm.inbox_name, ''),
       s.from_address, s.from_name,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('email', a)), '[]') FROM unnest(s.to_addresses) a),
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('email', a)), '[]') FROM unnest(s.cc_addresses) a),
       '{}'::text[],
       (SELECT COALESCE(jsonb_agg(jsonb_build_object('email', a)), '[]') FROM unnest(s.bcc_addresses) a),
       s.ticket_id
FROM sent_mails s LEFT JOIN tickets t ON t.id = s.ticket_id
LEFT JOIN mailboxes mb ON mb.id = t.mailbox_id
LEFT JOIN messages m ON m.id = s.in_reply_to_message
LEFT JOIN mailboxes rm ON rm.id = m.mailbox_id
WHERE s.org_id = %(org)s AND s.status <> 'failed'
  AND s.created_at >= %(start)s AND s.created_at < %(end)s
"""


def page(
    conn: Connection,
    org_id: UUID,
    start: datetime,
    end: datetime,
    limit: int,
    cursor: tuple[int, int] | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit + 1`` mails in ``[start, end)`` after ``cursor`` (created ms, key)."""
    created_ms, key = cursor or (None, None)
    return conn.execute(
        f"""SELECT * FROM ({FEED}) feed
            WHERE %(cms)s::bigint IS NULL OR (created_ms, cursor_key) > (%(cms)s, %(key)s)
            ORDER BY created_ms, cursor_key LIMIT %(limit)s""",
        {
            "org": org_id,
            "start": start,
            "end": end,
            "cms": created_ms,
            "key": key,
            "limit": limit + 1,
        },
    ).fetchall()
