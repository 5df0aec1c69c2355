"""Run stages for one message: claim, run, record, commit (STYLE §4).

A run starts at one stage and may go on through the following stages in the same
transaction while ``chain(current, next)`` allows it (the workers chain stages that
share a queue: a transaction and a queue hop per stage would cost more than most stages
do). Each stage still claims the row for itself, records its own evidence and names the
next stage, so a crash rolls the whole run back to where it started and a repeated run
finds nothing to claim. The caller sends the returned jobs and the next stage only after
this function has returned, i.e. after commit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from psycopg_pool import ConnectionPool

from config.logging import bound
from pipeline import stages
from pipeline.db import Connection
from pipeline.errors import PermanentError
from pipeline.stages import Continue, Job, StageContext, Stop
from pipeline.store import messages

log = logging.getLogger(__name__)

Chain = Callable[[str, str], bool]


def never(current: str, following: str) -> bool:
    return False


@dataclass
class StageResult:
    """What happened: the stage to run next (if any), jobs to enqueue, time per stage."""

    next_stage: str | None
    jobs: tuple[Job, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)


def run_stage(
    pool: ConnectionPool, stage: str, message_id: int, ctx: StageContext, chain: Chain = never
) -> StageResult | None:
    """Run ``stage`` (and the stages ``chain`` admits after it) in one transaction.

    Returns ``None`` when there was nothing to do (already done, or another worker holds it).
    Raises ``PermanentError`` after marking the message ``failed``; other errors are
    recorded in ``last_error`` and re-raised for the broker to retry.
    """
    progress = StageResult(stage)
    with bound(message_id=message_id):
        try:
            with pool.connection() as conn, conn.transaction():
                return run_inline(conn, stage, message_id, ctx, chain, progress)
        except PermanentError as exc:
            _fail(pool, message_id, progress.next_stage, exc, permanent=True)
            raise
        except Exception as exc:
            _fail(pool, message_id, progress.next_stage, exc, permanent=False)
            raise


def run_inline(
    conn: Connection,
    stage: str,
    message_id: int,
    ctx: StageContext,
    chain: Chain = never,
    progress: StageResult | None = None,
) -> StageResult | None:
    """Run ``stage`` onwards inside the caller's transaction (an API request that must act
    on a message at once uses this directly). ``None`` if ``stage`` is not pending."""
    progress = progress or StageResult(stage)
    current: str | None = stage
    ran = False
    while current is not None:
        msg = messages.claim(conn, message_id, current)
        if msg is None:
            break
        started = time.perf_counter()
        with bound(stage=current, org_id=str(msg.org_id)):
            outcome = stages.load(current).run(conn, msg, ctx)
        following = _record(conn, msg.id, current, outcome)
        progress.seconds[current] = time.perf_counter() - started
        progress.jobs += outcome.jobs
        progress.next_stage, ran = following, True
        if following is None or not chain(current, following):
            break
        current = following
    return progress if ran else None


def _record(conn: Connection, message_id: int, stage: str, outcome: Continue | Stop) -> str | None:
    """Write the stage's evidence and the message's next stage; return that stage."""
    if isinstance(outcome, Stop):
        evidence = {"outcome": outcome.state, "reason": outcome.reason, **outcome.evidence}
        messages.record_stage(conn, message_id, stage, evidence, None, outcome.state)
        return None
    following = stages.next_stage(stage)
    state = "processing" if following else "done"
    messages.record_stage(conn, message_id, stage, outcome.evidence, following, state)
    return following


def _fail(
    pool: ConnectionPool, message_id: int, stage: str | None, exc: Exception, *, permanent: bool
) -> None:
    reason = f"{stage}: {type(exc).__name__}: {exc}"
    log.warning("stage failed message_id=%s permanent=%s %s", message_id, permanent, reason)
    try:
        with pool.connection() as conn, conn.transaction():
            messages.record_failure(conn, message_id, reason, permanent=permanent)
    except Exception:
        log.exception("could not record failure message_id=%s", message_id)
