"""SQL for outbound mail: send configurations (SMTP relays), ``sent_mails``, the auto-reply log.

Every function takes the organization it acts for, except the worker-side claim and
record functions, which act on one ``sent_mails`` id the worker was handed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pipeline.db import Connection
from pipeline.records import columns

TLS_MODES = ("ssl", "starttls", "none")


@dataclass(frozen=True)
class SendConfig:
    """An SMTP relay an organization sends through (password still encrypted)."""

    id: int
    org_id: UUID
    name: str
    host: str
    port: int
    tls_mode: str
    username: str | None
    password_enc: bytes | None
    from_email: str
    from_name: str | None
    is_default: bool


def create_config(
    conn: Connection,
    org_id: UUID,
    *,
    name: str,
    host: str,
    port: int,
    tls_mode: str,
    from_email: str,
    from_name: str | None = None,
    username: str | None = None,
    password_enc: bytes | None = None,
    is_default: bool = False,
) -> SendConfig:
    """Store a relay; making it the default takes the flag from the previous default."""
    if is_default:
        conn.execute(
            "UPDATE send_configs SET is_default = false WHERE org_id = %s AND is_default",
            (org_id,),
        )
    with conn.cursor(row_factory=class_row(SendConfig)) as cur:
        row = cur.execute(
            f"""INSERT INTO send_configs (org_id, name, host, port, tls_mode, username,
                                          password_enc, from_email, from_name, is_default)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                RETURNING {columns(SendConfig)}""",
            (
                org_id,
                name,
                host,
                port,
                tls_mode,
                username,
                password_enc,
                from_email,
                from_name,
                is_default,
            ),
        ).fetchone()
    assert row is not None
    return row


def find_config(conn: Connection, org_id: UUID, config_id: int | None) -> SendConfig | None:
    """Relay ``config_id`` of ``org_id``; without an id, the default (else the oldest)."""
    with conn.cursor(row_factory=class_row(SendConfig)) as cur:
        if config_id is not None:
            return cur.execute(
                f"SELECT {columns(SendConfig)} FROM send_configs WHERE org_id = %s AND id = %s",
                (org_id, config_id),
            ).fetchone()
        return cur.execute(
            f"""SELECT {columns(SendConfig)} FROM send_configs WHERE org_id = %s
                ORDER BY is_default DESC, id LIMIT 1""",
            (org_id,),
        ).fetchone()


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
