"""The one hand-over after the door, for every channel, and ``run_through`` for callers
that must answer with the pipeline's result.

``hand_over`` takes stored (committed) message ids and makes sure they will be worked
on: it records the hand-over on the rows (``messages.handed_over_at``), then sends them
to the pipeline actor, a few to a job. What it cannot finish (the process dies, Redis is
away) the scheduler's ``pick_up`` finishes within seconds: a pending message no worker
holds that was never handed over, or whose queue message was lost, is handed over again.
Handing a message over twice is harmless: a run claims the row and checks its stage.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from psycopg_pool import ConnectionPool

from pipeline.context import StageContext
from pipeline.errors import PermanentError
from pipeline.faults import crash_point
from pipeline.jobs import Job
from pipeline.queues import PIPELINE_QUEUE, PROCESS_ACTOR, JobQueue
from pipeline.runner import StageResult, run_message
from pipeline.store import message_queries, messages

log = logging.getLogger(__name__)

BATCH_SIZE = 8  # messages per job; small enough that a batch's last waits little
HANDOVER_GRACE_SECONDS = 5  # a message not handed over this long after commit was left behind
LOST_AFTER_SECONDS = 15  # handed over this long ago, unmoved, and its queue is empty: lost


def hand_over(pool: ConnectionPool, queue: JobQueue, message_ids: Sequence[int]) -> None:
    """Make sure the stored messages ``message_ids`` will be worked on (call after commit)."""
    ids = list(message_ids)
    if not ids:
        return
    crash_point("handover")
    with pool.connection() as conn:
        messages.mark_handed_over(conn, ids)
    queue.send_jobs(process_jobs(ids))


def hand_over_or_leave(pool: ConnectionPool, queue: JobQueue, message_ids: Sequence[int]) -> None:
    """``hand_over``, leaving the messages to the scheduler's pick-up if it fails (Redis or
    the database away): they are stored, so the caller's answer stands."""
    try:
        hand_over(pool, queue, message_ids)
    except Exception:
        log.exception("hand-over failed after commit for message ids %s", list(message_ids))


def process_jobs(message_ids: Sequence[int]) -> list[Job]:
    """The pipeline jobs for ``message_ids``, up to ``BATCH_SIZE`` to a job."""
    ids = list(message_ids)
    return [
        Job(PROCESS_ACTOR, (ids[start : start + BATCH_SIZE],))
        for start in range(0, len(ids), BATCH_SIZE)
    ]


def run_through(
    pool: ConnectionPool, queue: JobQueue, message_id: int, ctx: StageContext
) -> StageResult | None:
    """Run every pending stage of a stored message now, exactly as a worker would, and send
    its jobs. A transient failure hands the message to the workers (``None``); a permanent
    one is raised, the message already ``failed``."""
    try:
        result = run_message(pool, message_id, ctx)
    except PermanentError:
        raise
    except Exception:
        log.exception("inline run failed message_id=%s; handing to the workers", message_id)
        hand_over_or_leave(pool, queue, [message_id])
        return None
    if result is not None:
        send_after_commit(queue, result.jobs)
    return result


def send_after_commit(queue: JobQueue, jobs: Sequence[Job]) -> None:
    """Send a committed run's jobs; each kind has its own net if they are lost here."""
    crash_point("after_commit")
    queue.send_jobs(jobs)


def pick_up(pool: ConnectionPool, queue: JobQueue) -> int:
    """Hand over again what a crash left behind; return how many.

    Never handed over: pending, unlocked, no hand-over ``HANDOVER_GRACE_SECONDS`` after its
    last change. Lost: handed over ``LOST_AFTER_SECONDS`` ago, unmoved, unlocked, while the
    pipeline queue holds no message at all (Redis lost its data; a dead worker's messages
    stay on the queue until Dramatiq hands them to a live worker)."""
    lost_after = LOST_AFTER_SECONDS if queue.unfinished(PIPELINE_QUEUE) == 0 else None
    with pool.connection() as conn, conn.transaction():
        ids = message_queries.unclaimed(conn, HANDOVER_GRACE_SECONDS, lost_after)
    if ids:
        log.info("handing over %d messages left behind", len(ids))
        hand_over(pool, queue, ids)
    return len(ids)
