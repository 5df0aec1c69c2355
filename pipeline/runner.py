"""Run one stage for one message: claim, run, record, commit (STYLE §4).

The caller (a Dramatiq actor) sends the returned jobs and the next stage only after
this function has returned, i.e. after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from pipeline import stages
from pipeline.db import Connection
from pipeline.errors import PermanentError
from pipeline.stages import Continue, Job, StageContext, Stop
from pipeline.store import messages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageResult:
    """What happened: the stage to run next (if any) and jobs to enqueue."""

    next_stage: str | None
    jobs: tuple[Job, ...] = ()


def run_stage(
    pool: ConnectionPool, stage: str, message_id: int, ctx: StageContext
) -> StageResult | None:
    """Run ``stage`` on message ``message_id`` in one transaction.

    Returns ``None`` when there was nothing to do (already done, or another worker holds it).
    Raises ``PermanentError`` after marking the message ``failed``; other errors are
    recorded in ``last_error`` and re-raised for the broker to retry.
    """
    module = stages.load(stage)
    try:
        with pool.connection() as conn, conn.transaction():
            msg = messages.claim(conn, message_id, stage)
            if msg is None:
                return None
            outcome = module.run(conn, msg, ctx)
            return _record(conn, msg.id, stage, outcome)
    except PermanentError as exc:
        _fail(pool, message_id, stage, exc, permanent=True)
        raise
    except Exception as exc:
        _fail(pool, message_id, stage, exc, permanent=False)
        raise


def run_inline(
    conn: Connection, stage: str, message_id: int, ctx: StageContext
) -> StageResult | None:
    """Run ``stage`` inside the caller's transaction, for an API request that must act on
    the message at once (``insertTicket``). Errors propagate to the caller, whose
    transaction then stores nothing. ``None`` when ``stage`` is not the message's next stage.
    """
    msg = messages.claim(conn, message_id, stage)
    if msg is None:
        return None
    return _record(conn, msg.id, stage, stages.load(stage).run(conn, msg, ctx))


def _record(conn, message_id: int, stage: str, outcome: Continue | Stop) -> StageResult:
    if isinstance(outcome, Stop):
        evidence = {"outcome": outcome.state, "reason": outcome.reason, **outcome.evidence}
        messages.record_stage(conn, message_id, stage, evidence, None, outcome.state)
        return StageResult(None, outcome.jobs)
    following = stages.next_stage(stage)
    state = "processing" if following else "done"
    messages.record_stage(conn, message_id, stage, outcome.evidence, following, state)
    return StageResult(following, outcome.jobs)


def _fail(
    pool: ConnectionPool, message_id: int, stage: str, exc: Exception, *, permanent: bool
) -> None:
    reason = f"{stage}: {type(exc).__name__}: {exc}"
    log.warning("stage failed message_id=%s permanent=%s %s", message_id, permanent, reason)
    try:
        with pool.connection() as conn, conn.transaction():
            messages.record_failure(conn, message_id, reason, permanent=permanent)
    except Exception:
        log.exception("could not record failure message_id=%s", message_id)
