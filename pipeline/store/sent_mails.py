"""Read queries behind the send status and history endpoints (scoped to one organization)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pipeline import ids
from pipeline.db import Connection

COLUMNS = """id, message_id, status, to_addresses, cc_addresses, bcc_addresses, from_address,
    from_name, reply_to, subject, tags, config_id, ticket_id, kind, attempts, error,
    smtp_response, last_event, last_event_at, created_at, sent_at, updated_at"""


def find(conn: Connection, org_id: UUID, reference: str) -> dict[str, Any] | None:
    """A sent mail by Intake id (digits) or by Message-ID (with or without ``<>``)."""
    text = reference.strip()
    if text.isascii() and text.isdigit():
        number = ids.row_id(text)  # None: beyond bigint, so no such mail
        if number is None:
            return None
        return conn.execute(
            f"SELECT {COLUMNS} FROM sent_mails WHERE org_id = %s AND id = %s", (org_id, number)
        ).fetchone()
    message_id = reference.strip()
    if not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    return conn.execute(
        f"SELECT {COLUMNS} FROM sent_mails WHERE org_id = %s AND message_id = %s",
        (org_id, message_id),
    ).fetchone()


def events_of(conn: Connection, org_id: UUID, sent_mail_id: int) -> list[dict[str, Any]]:
    """Delivery events recorded for the mail (delivered, opened, bounces…), oldest first."""
    return conn.execute(
        """SELECT event, provider, recipient, status_code, diagnostic, occurred_at
           FROM delivery_events WHERE org_id = %s AND sent_mail_id = %s
           ORDER BY occurred_at, id""",
        (org_id, sent_mail_id),
    ).fetchall()


def history(
    conn: Connection,
    org_id: UUID,
    *,
    status: str | None,
    since: date | None,
    until: date | None,
    page: int,
    per_page: int,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first; ``since``/``until`` are whole days (UTC) of creation, both included."""
    where = ["org_id = %(org)s"]
    params: dict[str, Any] = {"org": org_id}
    if status:
        where.append("status = %(status)s")
        params["status"] = status
    if since:
        where.append("created_at >= %(since)s::date::timestamp AT TIME ZONE 'UTC'")
        params["since"] = since
    if until:
        where.append("created_at < (%(until)s::date + 1)::timestamp AT TIME ZONE 'UTC'")
        params["until"] = until
    clause = " AND ".join(where)
    rows = conn.execute(
        f"""SELECT {COLUMNS} FROM sent_mails WHERE {clause}
            ORDER BY created_at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s""",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM sent_mails WHERE {clause}", params)
    return rows, total.fetchone()["n"]


def orgs_with_message_id(conn: Connection, message_ids: list[str]) -> list[UUID]:
    """Organizations that sent a mail under any of ``message_ids`` (across organizations:
    a provider's delivery hook names no organization)."""
    rows = conn.execute(
        "SELECT DISTINCT org_id FROM sent_mails WHERE message_id = ANY(%s)", (message_ids,)
    ).fetchall()
    return [r["org_id"] for r in rows]


def stored_message_id(conn: Connection, org_id: UUID, message_ids: list[str]) -> str | None:
    """Which of ``message_ids`` the organization's sent mail is stored under, if any."""
    row = conn.execute(
        "SELECT message_id FROM sent_mails WHERE org_id = %s AND message_id = ANY(%s) LIMIT 1",
        (org_id, message_ids),
    ).fetchone()
    return row["message_id"] if row else None


def message_id_of(conn: Connection, sent_mail_id: int) -> str:
    """The Message-ID a queued mail was given."""
    row = conn.execute("SELECT message_id FROM sent_mails WHERE id = %s", (sent_mail_id,))
    return row.fetchone()["message_id"]
