"""Put messages through the pipeline again (``intake replay``), safely.

Safe because every stage is idempotent by construction: parse re-stores the same parts
(content-addressed, unique by position), categories and events are unique per message,
and the ticket stage keeps a message that is already on a ticket where it is (tickets are
also unique by the message they were opened from). Replaying can therefore never open a
second ticket for one message.

What is replayed:

- ``failed`` messages restart at the stage that failed (the stage is kept on failure);
- messages stuck in ``received`` / ``processing`` are enqueued again at their stage;
- finished messages (done, duplicate, filtered, held, discarded) are left alone, unless
  ``from_start``: then any message, failed or finished, restarts at ``parse`` and every
  decision is taken again under the current rules and policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.db import Connection
from pipeline.stage_order import ORDER
from pipeline.store import messages

FIRST_STAGE = ORDER[0]
IN_FLIGHT = frozenset({"received", "processing"})


@dataclass(frozen=True)
class Replay:
    """One message's replay: the stage to enqueue, or why it was skipped."""

    message_id: int
    stage: str | None = None
    skipped: str | None = None


def prepare(conn: Connection, message_ids: list[int], *, from_start: bool) -> list[Replay]:
    """Reset the messages for replay in the caller's transaction; enqueue after commit."""
    found = messages.lock_states(conn, message_ids)
    return [
        _prepare_one(conn, message_id, found.get(message_id), from_start)
        for message_id in dict.fromkeys(message_ids)
    ]


def _prepare_one(conn: Connection, message_id: int, row: dict | None, from_start: bool) -> Replay:
    if row is None:
        return Replay(message_id, skipped="not found")
    if from_start:
        messages.restart(conn, message_id, FIRST_STAGE, "received")
        return Replay(message_id, FIRST_STAGE)
    stage = row["stage"] if row["stage"] in ORDER else FIRST_STAGE
    if row["state"] == "failed":
        messages.restart(
            conn, message_id, stage, "received" if stage == FIRST_STAGE else "processing"
        )
        return Replay(message_id, stage)
    if row["state"] in IN_FLIGHT:
        messages.restart(conn, message_id, stage, row["state"])
        return Replay(message_id, stage)
    return Replay(message_id, skipped=f"already {row['state']} (use --from-start to re-run it)")
