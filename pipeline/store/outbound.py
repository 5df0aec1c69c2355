"""SQL for outbound mail, the one module that writes ``sent_mails`` and the auto-reply log
(the relays they go through are ``store.send_configs``).

Every function takes the organization it acts for, except the worker-side claim and
record functions, which act on one ``sent_mails`` id the worker was handed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection


def insert_sent_mail(conn: Connection, org_id: UUID, values: dict[str, Any]) -> int:
    """A ``queued`` row for a composed mail (``values`` are column names from our own code)."""
    values = {**values, "attachments": Jsonb(values.get("attachments", []))}
    names = ", ".join(f'"{name}"' for name in values)
    placeholders = ", ".join(f"%({name})s" for name in values)
    row = conn.execute(
        f"""INSERT INTO sent_mails (org_id, {names}) VALUES (%(_org)s, {placeholders})
            RETURNING id""",
        {**values, "_org": org_id},
    ).fetchone()
    assert row is not None
    return int(row["id"])


def get_sent_mail(conn: Connection, org_id: UUID, sent_mail_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM sent_mails WHERE org_id = %s AND id = %s", (org_id, sent_mail_id)
    ).fetchone()


def claim_for_sending(conn: Connection, sent_mail_id: int) -> dict[str, Any] | None:
    """Move a ``queued`` mail to ``sending`` and count the attempt; ``None`` when it is not
    queued (already sent, failed, or being sent by another worker): a redelivered job must
    never send a mail twice."""
    return conn.execute(
        """UPDATE sent_mails SET status = 'sending', attempts = attempts + 1, updated_at = now()
           WHERE id = %s AND status = 'queued' RETURNING *""",
        (sent_mail_id,),
    ).fetchone()


def record_result(
    conn: Connection, sent_mail_id: int, status: str, response: str, error: str | None
) -> None:
    """``sent``, ``failed`` or back to ``queued`` (a temporary failure waiting for its retry)."""
    conn.execute(
        """UPDATE sent_mails SET status = %s, smtp_response = %s, error = %s, updated_at = now(),
                  sent_at = CASE WHEN %s = 'sent' THEN now() ELSE sent_at END
           WHERE id = %s""",
        (status, response[:2000], error[:2000] if error else None, status, sent_mail_id),
    )


def record_last_event(
    conn: Connection, sent_mail_id: int, event: str, occurred_at: datetime | None
) -> None:
    """The latest delivery event of a sent mail (``store.deliveries`` stores the event)."""
    conn.execute(
        """UPDATE sent_mails SET last_event = %s, last_event_at = COALESCE(%s, now())
           WHERE id = %s""",
        (event, occurred_at, sent_mail_id),
    )


def never_attempted(conn: Connection, older_than_seconds: int, limit: int = 500) -> list[int]:
    """Queued mails whose first send job was lost (a crash between commit and enqueue)."""
    rows = conn.execute(
        """SELECT id FROM sent_mails WHERE status = 'queued' AND attempts = 0
             AND updated_at < now() - make_interval(secs => %s)
           ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED""",
        (older_than_seconds, limit),
    ).fetchall()
    ids = [r["id"] for r in rows]
    if ids:
        conn.execute("UPDATE sent_mails SET updated_at = now() WHERE id = ANY(%s)", (ids,))
    return ids


def claim_auto_reply_slot(
    conn: Connection, org_id: UUID, address: str, window_seconds: int
) -> bool:
    """Reserve the right to auto-reply to ``address`` now: ``False`` when one was sent within
    the window. The row lock of the upsert serialises concurrent tickets from one sender."""
    row = conn.execute(
        """INSERT INTO auto_reply_log (org_id, address) VALUES (%s, lower(%s))
           ON CONFLICT (org_id, address) DO UPDATE SET last_sent_at = now()
               WHERE auto_reply_log.last_sent_at <= now() - make_interval(secs => %s)
           RETURNING last_sent_at""",
        (org_id, address, window_seconds),
    ).fetchone()
    return row is not None
