"""Run stages for one message: claim, run, record, commit (STYLE §4).

A run starts at one stage and may go on through the following stages in the same
transaction while ``chain(current, next)`` allows it (the workers chain stages that
share a queue: a transaction and a queue hop per stage would cost more than most stages
do). The run claims the row once; each stage sees the message as the stages before it
left it, and at the end one UPDATE records every stage's evidence and changes and the
stage to run next. A crash rolls the whole run back to where it started and a repeated
run finds nothing to claim. The caller sends the returned jobs and the next stage only
after this function has returned, i.e. after commit.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from config.logging import bound
from pipeline import stages
from pipeline.db import Connection
from pipeline.errors import PermanentError
from pipeline.records import Message
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
    ctx = ctx.for_run()
    msg = _claim(conn, message_id, stage, ctx)
    if msg is None:
        return None
    run = messages.RunRecord()
    current = stage
    with bound(org_id=str(msg.org_id)):
        while True:
            started = time.perf_counter()
            with bound(stage=current):
                outcome = stages.load(current).run(conn, msg, ctx)
            following, msg = _advance(run, msg, current, outcome)
            progress.seconds[current] = time.perf_counter() - started
            progress.jobs += outcome.jobs
            progress.next_stage = following
            if following is None or not chain(current, following):
                break
            current = following
    try:
        messages.record_run(conn, message_id, run)
    except psycopg.DataError as exc:  # a value PostgreSQL refuses will not improve on retry
        raise PermanentError(f"results not storable: {exc}") from exc
    return progress


def _claim(conn: Connection, message_id: int, stage: str, ctx: StageContext) -> Message | None:
    """Lock the message for ``stage``; with its raw bytes if that stage reads them."""
    if not getattr(stages.load(stage), "NEEDS_RAW", False):
        return messages.claim(conn, message_id, stage)
    claimed = messages.claim_with_raw(conn, message_id, stage)
    if claimed is None:
        return None
    ctx.keep_raw(*claimed)
    return claimed[0]


def _advance(
    run: messages.RunRecord, msg: Message, stage: str, outcome: Continue | Stop
) -> tuple[str | None, Message]:
    """Note ``stage``'s outcome in ``run``; return the next stage and the message as the
    next stage should see it."""
    if isinstance(outcome, Stop):
        evidence = {"outcome": outcome.state, "reason": outcome.reason, **outcome.evidence}
        following, state = None, outcome.state
    else:
        evidence = outcome.evidence
        following = stages.next_stage(stage)
        state = "processing" if following else "done"
    entries = {stage: evidence, **outcome.notes}
    run.note(outcome.changes, entries, following, state)
    analysis = {**msg.analysis, **entries}
    return following, evolve(
        msg, {**outcome.changes, "analysis": analysis, "stage": following, "state": state}
    )


def evolve(msg: Message, values: dict[str, Any]) -> Message:
    """A copy of ``msg`` with ``values`` set (``dataclasses.replace`` without re-running
    ``__init__`` over every field: the runner does this after each stage)."""
    unknown = values.keys() - msg.__dict__.keys()
    if unknown:
        raise TypeError(f"Message has no field(s) {sorted(unknown)}")
    copied = copy.copy(msg)
    copied.__dict__.update(values)
    return copied


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
