"""Helpers for thread, category and ticket tests: compose mail, deliver it, inspect results."""

from __future__ import annotations

from pipeline.records import Envelope
from tests.helpers import mfs, run_pipeline

SNAPSHOT_TABLES = (
    "tickets",
    "ticket_messages",
    "ticket_links",
    "tracking_events",
    "contacts",
    "message_categories",
    "webhook_events",
    "webhook_deliveries",
    "attachments",
)


def mail(
    subject: str = "Printer on fire",
    *,
    sender: str = "alice@example.org",
    to: str = "support@example.com",
    message_id: str = "<first@example.org>",
    headers: str = "",
    body: str = "Help, it is on fire.",
) -> bytes:
    extra = "".join(f"{line}\n" for line in headers.splitlines() if line.strip())
    return mfs(
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nMessage-ID: {message_id}\n{extra}\n{body}\n"
    )


def deliver(pool, raw: bytes, mailbox, rcpt: str | None = None, settings=None) -> int:
    """Accept ``raw`` for ``mailbox`` (envelope recipient ``rcpt``) and run the pipeline."""
    from pipeline.intake import accept_raw

    with pool.connection() as conn, conn.transaction():
        message_id = accept_raw(
            conn, raw, Envelope("bounce@example.org", (rcpt or mailbox.address,)), "smtp", mailbox
        )
    run_pipeline(pool, message_id, settings)
    return message_id


def message(conn, message_id: int) -> dict:
    return conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()


def decision(conn, message_id: int) -> dict:
    return message(conn, message_id)["analysis"]["match_thread"]


def ticket_of(conn, message_id: int) -> dict | None:
    return conn.execute(
        "SELECT t.* FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE m.id = %s",
        (message_id,),
    ).fetchone()


def count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def snapshot(conn) -> dict[str, list]:
    """Every row the thread, category and ticket stages may write."""
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in SNAPSHOT_TABLES}


def rerun(pool, conn, settings, message_id: int, stage: str) -> dict:
    """Run ``stage`` once more on a finished message, as a redelivered job would; return the
    evidence it recorded the second time."""
    from pipeline.context import StageContext
    from pipeline.runner import run_stage

    conn.execute(
        "UPDATE messages SET stage = %s, state = 'processing' WHERE id = %s", (stage, message_id)
    )
    run_stage(pool, stage, message_id, StageContext(settings))
    return message(conn, message_id)["analysis"][stage]
