"""One thin actor per pipeline stage, all driven by ``advance``.

Consecutive stages that share a queue run one after another in the same job, each in
its own transaction: a queue hop costs more than most stages. A stage on another
queue (slow media work, outbound HTTP) is handed over through the broker.
"""

from __future__ import annotations

import logging
import time

import dramatiq

from pipeline import metrics, stages
from pipeline.errors import PermanentError
from pipeline.runner import StageResult, run_stage
from pipeline.stages import Job, actor_name, queue_of
from workers import runtime
from workers.broker import broker

log = logging.getLogger(__name__)

MAX_RETRIES = 8


def send_jobs(jobs: tuple[Job, ...]) -> None:
    for job in jobs:
        broker.get_actor(job.actor).send(*job.args)


def enqueue(stage: str, message_id: int) -> None:
    """Hand message ``message_id`` to the actor of ``stage``."""
    ACTORS[stage].send(message_id)


def advance(stage: str, message_id: int) -> None:
    """Run ``stage`` and the following stages of the same queue, then hand over."""
    current: str | None = stage
    while current is not None:
        result = _timed_run(current, message_id)
        if result is None:
            return
        send_jobs(result.jobs)
        following = result.next_stage
        if following is not None and queue_of(following) != queue_of(current):
            enqueue(following, message_id)
            return
        current = following


def _timed_run(stage: str, message_id: int) -> StageResult | None:
    started, ok = time.perf_counter(), False
    try:
        result = run_stage(runtime.stage_pool(), stage, message_id, runtime.stage_context())
        ok = True
        return result
    finally:
        _observe(stage, time.perf_counter() - started, ok)


def _observe(stage: str, seconds: float, ok: bool) -> None:
    try:
        metrics.observe_stage(broker.client, runtime.settings().redis_namespace, stage, seconds, ok)
    except Exception:  # metrics never fail a stage
        log.warning("could not record stage metrics", exc_info=True)


def _make_actor(stage: str) -> dramatiq.Actor:
    def stage_actor(message_id: int) -> None:
        advance(stage, message_id)

    stage_actor.__name__ = actor_name(stage)
    return dramatiq.actor(
        stage_actor,
        actor_name=actor_name(stage),
        queue_name=queue_of(stage),
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=600_000,
        throws=(PermanentError,),
    )


ACTORS: dict[str, dramatiq.Actor] = {name: _make_actor(name) for name in stages.ORDER}
