"""Run stages for one message: claim, run, record, commit (STYLE §4).

``run_message`` takes a message from its pending stage through the last one in one
transaction (a transaction per stage would cost more than most stages do); ``run_stage``
runs one stage only (tests step through the pipeline with it). The run claims the row
once; each stage sees the message as the stages before it left it, and at the end one
UPDATE records every stage's evidence and changes and the stage to run next. A crash or
a failure late in the run rolls the whole run back to where it started, so nothing
committed is redone or undone; a repeated run finds nothing to claim. The caller sends
the returned jobs only after this function has returned, i.e. after commit.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from config.logging import bound
from pipeline import stages
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.errors import PermanentError
from pipeline.faults import crash_point
from pipeline.jobs import Job
from pipeline.outcomes import Continue, Stop
from pipeline.records import Message
from pipeline.store import messages

log = logging.getLogger(__name__)


@dataclass
class StageResult:
    """What happened: the stage to run next (if any), jobs to enqueue, time per stage."""

    next_stage: str | None
    jobs: tuple[Job, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)


def run_message(
    pool: ConnectionPool,
    message_id: int,
    ctx: StageContext,
    progress: StageResult | None = None,
) -> StageResult | None:
    """Run every pending stage of the message, from wherever it is, in one transaction.

    Returns ``None`` when there was nothing to do (already done, or another worker holds it).
    Raises ``PermanentError`` after marking the message ``failed``; other errors are
    recorded in ``last_error`` and re-raised for the broker to retry. A caller's
    ``progress`` names the stage that failed in ``next_stage`` (for its metrics).
    """
    return _run(pool, message_id, ctx, None, progress or StageResult(None))


def run_stage(
    pool: ConnectionPool, stage: str, message_id: int, ctx: StageContext
) -> StageResult | None:
    """Run ``stage`` alone, if it is the message's pending stage (see ``run_message``)."""
    return _run(pool, message_id, ctx, stage, StageResult(stage))


def _run(
    pool: ConnectionPool,
    message_id: int,
    ctx: StageContext,
    stage: str | None,
    progress: StageResult,
) -> StageResult | None:
    with bound(message_id=message_id):
        try:
            with pool.connection() as conn, conn.transaction():
                return run_inline(conn, message_id, ctx, stage, progress)
        except PermanentError as exc:
            _fail(pool, message_id, progress.next_stage, exc, permanent=True)
            raise
        except Exception as exc:
            _fail(pool, message_id, progress.next_stage, exc, permanent=False)
            raise


def run_inline(
    conn: Connection,
    message_id: int,
    ctx: StageContext,
    stage: str | None = None,
    progress: StageResult | None = None,
) -> StageResult | None:
    """Inside the caller's transaction: only ``stage`` if given, else every pending stage.
    ``None`` if there is nothing to run."""
    progress = progress or StageResult(stage)
    ctx = ctx.for_run()
    msg = _claim(conn, message_id, stage, ctx)
    if msg is None:
        return None
    run = messages.RunRecord()
    current = progress.next_stage = msg.stage
    with bound(org_id=str(msg.org_id)):
        while True:
            started = time.perf_counter()
            with bound(stage=current):
                outcome = stages.load(current).run(conn, msg, ctx)
            following, msg = _advance(run, msg, current, outcome)
            progress.seconds[current] = time.perf_counter() - started
            progress.jobs += outcome.jobs
            progress.next_stage = following
            if following is None or stage is not None:
                break
            current = following
    crash_point("stage")
    try:
        messages.record_run(conn, message_id, run)
    except psycopg.DataError as exc:  # a value PostgreSQL refuses will not improve on retry
        raise PermanentError(f"results not storable: {exc}") from exc
    return progress


def _claim(
    conn: Connection, message_id: int, stage: str | None, ctx: StageContext
) -> Message | None:
    """Lock the message if ``stage`` (or, for ``None``, any stage) is pending; with its raw
    bytes unless ``stage`` is known not to read them."""
    if stage is not None and not getattr(stages.load(stage), "NEEDS_RAW", False):
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
