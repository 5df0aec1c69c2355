"""Read queries over ``delivery_events`` and the sent mails they concern."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection


def list_events(
    conn: Connection,
    org_id: UUID,
    page: int,
    per_page: int,
    sent_mail_id: int | None,
    event: str | None,
) -> tuple[list[dict[str, Any]], int]:
    where = """org_id = %(org)s
        AND (%(sent)s::bigint IS NULL OR sent_mail_id = %(sent)s::bigint)
        AND (%(event)s::text IS NULL OR event = %(event)s::text)"""
    params = {"org": org_id, "sent": sent_mail_id, "event": event}
    rows = conn.execute(
        f"""SELECT * FROM delivery_events WHERE {where}
            ORDER BY occurred_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM delivery_events WHERE {where}", params)
    return rows, total.fetchone()["n"]


def get_event(conn: Connection, org_id: UUID, event_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM delivery_events WHERE org_id = %s AND id = %s", (org_id, event_id)
    ).fetchone()
