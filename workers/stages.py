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
from pipeline.runner import run_stage
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


def same_queue(current: str, following: str) -> bool:
    return queue_of(current) == queue_of(following)


def advance(stage: str, message_id: int) -> None:
    """Run ``stage`` and the following stages of the same queue, then hand over."""
    started = time.perf_counter()
    try:
        result = run_stage(
            runtime.stage_pool(), stage, message_id, runtime.stage_context(), same_queue
        )
    except Exception:
        _observe({stage: time.perf_counter() - started}, ok=False)
        raise
    if result is None:
        return
    _observe(result.seconds, ok=True)
    send_jobs(result.jobs)
    if result.next_stage is not None:
        enqueue(result.next_stage, message_id)


def _observe(seconds: dict[str, float], ok: bool) -> None:
    try:
        metrics.observe_stages(broker.client, runtime.settings().redis_namespace, seconds, ok)
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
