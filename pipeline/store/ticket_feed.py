"""The ``003_…`` ``listTickets`` feed: tickets in (updated_at, id) order, by keyset.

Ordering by the row-change time with the id as tie-break, and resuming strictly after the
last (updated_at, id) delivered, means no ticket is skipped while tickets change between
pages: a ticket changed after it was delivered moves behind the cursor and comes again,
once, with its new ``updatedDate``; an unchanged ticket comes exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pipeline.db import Connection


@dataclass(frozen=True)
class TicketFilter:
    """Lower bounds are inclusive, upper bounds exclusive; ``labels`` match any of them."""

    limit: int
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    latest_after: datetime | None = None
    latest_before: datetime | None = None
    from_email: str | None = None
    status: str | None = None
    labels: tuple[str, ...] = ()
    cursor: tuple[datetime, int] | None = None


def page(conn: Connection, org_id: UUID, f: TicketFilter) -> list[dict[str, Any]]:
    """Up to ``f.limit + 1`` tickets after the cursor (the extra one says a next page exists)."""
    cursor_at, cursor_id = f.cursor or (None, None)
    return conn.execute(
        """SELECT t.id, t.status, t.subject, t.labels, t.created_at, t.updated_at,
                  t.latest_updated_at, m.inbox_name, c.email AS from_email
           FROM tickets t LEFT JOIN mailboxes m ON m.id = t.mailbox_id
           LEFT JOIN contacts c ON c.id = t.contact_id
           WHERE t.org_id = %(org)s
             AND (%(ua)s::timestamptz IS NULL OR t.updated_at >= %(ua)s)
             AND (%(ub)s::timestamptz IS NULL OR t.updated_at < %(ub)s)
             AND (%(la)s::timestamptz IS NULL OR t.latest_updated_at >= %(la)s)
             AND (%(lb)s::timestamptz IS NULL OR t.latest_updated_at < %(lb)s)
             AND (%(from)s::text IS NULL OR lower(c.email) = lower(%(from)s))
             AND (%(status)s::text IS NULL OR t.status = %(status)s)
             AND (cardinality(%(labels)s::text[]) = 0 OR t.labels && %(labels)s::text[])
             AND (%(cat)s::timestamptz IS NULL OR (t.updated_at, t.id) > (%(cat)s, %(cid)s))
           ORDER BY t.updated_at, t.id LIMIT %(limit)s""",
        {
            "org": org_id,
            "ua": f.updated_after,
            "ub": f.updated_before,
            "la": f.latest_after,
            "lb": f.latest_before,
            "from": f.from_email,
            "status": f.status,
            "labels": list(f.labels),
            "cat": cursor_at,
            "cid": cursor_id,
            "limit": f.limit + 1,
        },
    ).fetchall()
