"""SQL for ``messages``, the one module that writes them: store a received mail, claim a
stage, record outcomes, set flags, delete (what operators and sweepers read about them is
``store.message_queries``)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from pipeline.db import Connection
from pipeline.records import Message, columns

PENDING_STATES = frozenset({"received", "processing"})
_NAMES = [f.name for f in fields(Message)]
CLAIM_SQL = f"SELECT {columns(Message)} FROM messages WHERE id = %s FOR UPDATE SKIP LOCKED"
CLAIM_WITH_RAW_SQL = f"""
    SELECT {", ".join(f'm."{name}"' for name in _NAMES)}, b.data AS raw
    FROM messages m JOIN blobs b ON b.sha256 = m.raw_sha256
    WHERE m.id = %s FOR UPDATE OF m SKIP LOCKED"""
# A received mail's row, in state ``received`` at stage ``%(stage)s``; its id. The raw bytes
# are blob ``%(sha)s``, stored in the same statement (``pipeline.intake.ACCEPT_SQL``).
INSERT_RECEIVED = """INSERT INTO messages (org_id, mailbox_id, channel, folder, imap_uid,
                      provider_message_id, raw_sha256, raw_size, envelope_from, envelope_to,
                      state, stage)
VALUES (%(org)s, %(mailbox)s, %(channel)s, %(folder)s, %(uid)s, %(pid)s, %(sha)s,
        %(size)s, %(from)s, %(to)s, 'received', %(stage)s)
RETURNING id"""


def claim(conn: Connection, message_id: int, stage: str | None) -> Message | None:
    """Lock the message if ``stage`` (``None``: any stage) is its pending stage; ``None`` if
    another worker has it or the stage already ran. Must be called inside a transaction."""
    with conn.cursor(row_factory=class_row(Message)) as cur:
        msg = cur.execute(CLAIM_SQL, (message_id,)).fetchone()
    return msg if msg is not None and _pending_at(msg, stage) else None


def claim_with_raw(
    conn: Connection, message_id: int, stage: str | None
) -> tuple[Message, bytes] | None:
    """``claim``, and the raw bytes in the same round trip (for a stage that reads them)."""
    row = conn.execute(CLAIM_WITH_RAW_SQL, (message_id,), binary=True).fetchone()
    if row is None:
        return None
    msg = Message(**{name: row[name] for name in _NAMES})
    return (msg, bytes(row["raw"])) if _pending_at(msg, stage) else None


def _pending_at(msg: Message, stage: str | None) -> bool:
    """Whether ``stage`` (``None``: any stage) is the message's pending stage. Checked here,
    not in the claim's WHERE: a ``stage = …`` condition lets the planner pick the partial
    ``messages_pending`` index, and once statistics say it is small, every claim during a
    burst scans it."""
    if msg.stage is None or msg.state not in PENDING_STATES:
        return False
    return stage is None or msg.stage == stage


def get(conn: Connection, org_id: UUID, message_id: int) -> Message | None:
    with conn.cursor(row_factory=class_row(Message)) as cur:
        return cur.execute(
            f"SELECT {columns(Message)} FROM messages WHERE org_id = %s AND id = %s",
            (org_id, message_id),
        ).fetchone()


def record_stage(
    conn: Connection,
    message_id: int,
    stage: str,
    evidence: dict[str, Any],
    next_stage: str | None,
    state: str,
) -> None:
    """Record ``stage``'s evidence and move the message on to ``next_stage`` / ``state``."""
    conn.execute(
        """UPDATE messages SET stage = %s, state = %s, state_changed_at = now(),
                  last_error = NULL, analysis = analysis || jsonb_build_object(%s::text, %s)
           WHERE id = %s""",
        (next_stage, state, stage, Jsonb(evidence), message_id),
    )


JSONB_COLUMNS = frozenset({"headers", "to_addresses", "cc_addresses", "analysis"})


@dataclass
class RunRecord:
    """What a run of stages decided, gathered for one UPDATE at its end."""

    changes: dict[str, Any] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    stage: str | None = None
    state: str = "processing"

    def note(
        self, changes: dict[str, Any], analysis: dict[str, Any], stage: str | None, state: str
    ) -> None:
        self.changes.update(changes)
        self.analysis.update(analysis)
        self.stage, self.state = stage, state


def record_run(conn: Connection, message_id: int, run: RunRecord) -> None:
    """Write a run's changes and evidence and move the message on, in one statement."""
    values = _adapted(run.changes)
    assignments = "".join(f'"{name}" = %({name})s, ' for name in values)
    conn.execute(
        f"""UPDATE messages SET {assignments}stage = %(_stage)s, state = %(_state)s,
                  state_changed_at = now(), last_error = NULL,
                  analysis = analysis || %(_analysis)s
           WHERE id = %(_id)s""",
        {
            **values,
            "_stage": run.stage,
            "_state": run.state,
            "_analysis": Jsonb(run.analysis),
            "_id": message_id,
        },
    )


def _adapted(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the jsonb columns' plain Python values wrapped for psycopg."""
    return {
        name: Jsonb(value) if name in JSONB_COLUMNS and not isinstance(value, Jsonb) else value
        for name, value in values.items()
    }


def record_failure(conn: Connection, message_id: int, error: str, *, permanent: bool) -> None:
    """Keep the error; a permanent one also parks the message in ``failed`` for replay."""
    conn.execute(
        """UPDATE messages SET last_error = %s,
                  state = CASE WHEN %s THEN 'failed' ELSE state END,
                  state_changed_at = CASE WHEN %s THEN now() ELSE state_changed_at END
           WHERE id = %s""",
        (error[:2000], permanent, permanent, message_id),
    )


def lock_states(conn: Connection, message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """``{id: {"state", "stage"}}`` of the given messages, locked until commit."""
    rows = conn.execute(
        "SELECT id, state, stage FROM messages WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
        (message_ids,),
    ).fetchall()
    return {r["id"]: r for r in rows}


def restart(conn: Connection, message_id: int, stage: str, state: str) -> None:
    """Put the message back in the pipeline at ``stage`` (replay): error cleared."""
    conn.execute(
        """UPDATE messages SET stage = %s, state = %s, state_changed_at = now(), last_error = NULL
           WHERE id = %s""",
        (stage, state, message_id),
    )


def update_fields(conn: Connection, message_id: int, values: dict[str, Any]) -> None:
    """Set the given columns (names come from our own code, never from input)."""
    if not values:
        return
    assignments = ", ".join(f'"{name}" = %({name})s' for name in values)
    conn.execute(
        f"UPDATE messages SET {assignments} WHERE id = %(_id)s",
        {**_adapted(values), "_id": message_id},
    )


def mark_handed_over(conn: Connection, message_ids: list[int]) -> None:
    """Record that the messages are being handed to the workers (see ``pipeline.handover``)."""
    conn.execute("UPDATE messages SET handed_over_at = now() WHERE id = ANY(%s)", (message_ids,))


def touch(conn: Connection, message_ids: list[int]) -> None:
    """Reset the sweep clock of re-enqueued messages so they are not sent again at once."""
    conn.execute("UPDATE messages SET state_changed_at = now() WHERE id = ANY(%s)", (message_ids,))


def set_received_at(conn: Connection, message_id: int, received_at: datetime) -> None:
    """Date a message by when its mail server received it (IMAP INTERNALDATE), not by import."""
    conn.execute("UPDATE messages SET received_at = %s WHERE id = %s", (received_at, message_id))


FLAG_UPDATES = {
    "mark_read": "is_read = true, read_at = COALESCE(read_at, now())",
    "mark_unread": "is_read = false, read_at = NULL",
    "star": "is_starred = true",
    "unstar": "is_starred = false",
    "archive": "is_archived = true",
    "unarchive": "is_archived = false",
}


def set_flags(
    conn: Connection,
    org_id: UUID,
    message_ids: list[int],
    action: str,
) -> list[int]:
    """Apply a flag action (a key of ``FLAG_UPDATES``); return the ids that exist."""
    rows = conn.execute(
        f"""UPDATE messages SET {FLAG_UPDATES[action]}
            WHERE org_id = %s AND id = ANY(%s) RETURNING id""",
        (org_id, message_ids),
    ).fetchall()
    return sorted(r["id"] for r in rows)


def delete_many(conn: Connection, org_id: UUID, message_ids: list[int]) -> list[int]:
    """Delete the organization's messages ``message_ids`` (their attachments cascade);
    return the ids that existed, sorted."""
    rows = conn.execute(
        "DELETE FROM messages WHERE org_id = %s AND id = ANY(%s) RETURNING id",
        (org_id, message_ids),
    ).fetchall()
    return sorted(r["id"] for r in rows)


def delete_one(conn: Connection, org_id: UUID, message_id: int) -> str | None:
    """Delete one message; its raw blob's digest, ``None`` when the organization has none."""
    row = conn.execute(
        "DELETE FROM messages WHERE org_id = %s AND id = %s RETURNING raw_sha256",
        (org_id, message_id),
    ).fetchone()
    return row["raw_sha256"] if row else None


def delete_of_mailbox(conn: Connection, org_id: UUID, mailbox_id: int) -> list[str]:
    """Delete the mailbox's messages; their raw blobs' digests, one per message."""
    rows = conn.execute(
        """DELETE FROM messages WHERE org_id = %s AND mailbox_id = %s
           RETURNING raw_sha256""",
        (org_id, mailbox_id),
    ).fetchall()
    return [r["raw_sha256"] for r in rows]
