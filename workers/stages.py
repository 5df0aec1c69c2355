"""One thin actor per pipeline stage, all driven by ``advance``, and one per stage for
batches of messages that arrived together.

Consecutive stages that share a queue run one after another in the same job and the same
transaction: a queue hop costs more than most stages. A stage on another queue (slow
media work, outbound HTTP) is handed over through the broker.

Under load the SMTP listener hands over many messages at once; ``enqueue_many`` puts up to
``BATCH_SIZE`` of them in one job, which runs each in its own transaction, one after the
other. Taking a job off the queue, acknowledging it and recording its timings cost about
as much as a message's smallest stages, so this pays them once per batch. A message that
fails in a batch is handed to its stage's own actor, to be retried alone with backoff.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import dramatiq

from pipeline import metrics, stages
from pipeline.errors import PermanentError
from pipeline.runner import run_stage
from pipeline.stages import Job, actor_name, queue_of
from workers import runtime
from workers.broker import broker

log = logging.getLogger(__name__)

MAX_RETRIES = 8
BATCH_SIZE = 4  # messages per job; small enough that a batch's last waits little
RETRY_ALONE_DELAY_MS = 1_000


def send_jobs(jobs: tuple[Job, ...]) -> None:
    for job in jobs:
        broker.get_actor(job.actor).send(*job.args)


def enqueue(stage: str, message_id: int) -> None:
    """Hand message ``message_id`` to the actor of ``stage``."""
    ACTORS[stage].send(message_id)


def enqueue_many(stage: str, message_ids: list[int]) -> None:
    """Hand messages to ``stage``, up to ``BATCH_SIZE`` per job (a lone one to the stage's
    own actor)."""
    for start in range(0, len(message_ids), BATCH_SIZE):
        chunk = message_ids[start : start + BATCH_SIZE]
        if len(chunk) == 1:
            enqueue(stage, chunk[0])
        else:
            BATCH_ACTORS[stage].send(chunk)


@dataclass
class Timings:
    """Stage runs of one job, recorded together at its end: (stage, seconds) pairs."""

    ok: list[metrics.Observation] = field(default_factory=list)
    failed: list[metrics.Observation] = field(default_factory=list)


def same_queue(current: str, following: str) -> bool:
    return queue_of(current) == queue_of(following)


def advance(stage: str, message_id: int) -> None:
    """Run ``stage`` and the following stages of the same queue, then hand over."""
    timings = Timings()
    try:
        _advance(stage, message_id, timings)
    finally:
        _observe(timings)


def advance_batch(stage: str, message_ids: list[int]) -> None:
    """``advance`` each message in turn; one that fails is retried alone (a permanent
    failure is already recorded on the message)."""
    timings = Timings()
    try:
        for message_id in message_ids:
            try:
                _advance(stage, message_id, timings)
            except PermanentError:
                continue
            except Exception:
                log.warning("stage failed in a batch, retried alone", exc_info=True)
                ACTORS[stage].send_with_options(args=(message_id,), delay=RETRY_ALONE_DELAY_MS)
    finally:
        _observe(timings)


def _advance(stage: str, message_id: int, timings: Timings) -> None:
    """Run the stages of one message, adding their durations to ``timings``."""
    started = time.perf_counter()
    try:
        result = run_stage(
            runtime.stage_pool(), stage, message_id, runtime.stage_context(), same_queue
        )
    except Exception:
        timings.failed.append((stage, time.perf_counter() - started))
        raise
    if result is None:
        return
    timings.ok.extend(result.seconds.items())
    send_jobs(result.jobs)
    if result.next_stage is not None:
        enqueue(result.next_stage, message_id)


def _observe(timings: Timings) -> None:
    namespace = runtime.settings().redis_namespace
    try:
        metrics.observe_stages(broker.client, namespace, timings.ok, ok=True)
        metrics.observe_stages(broker.client, namespace, timings.failed, ok=False)
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


def _make_batch_actor(stage: str) -> dramatiq.Actor:
    def batch_actor(message_ids: list[int]) -> None:
        advance_batch(stage, message_ids)

    name = f"{actor_name(stage)}_batch"
    batch_actor.__name__ = name
    return dramatiq.actor(
        batch_actor,
        actor_name=name,
        queue_name=queue_of(stage),
        max_retries=MAX_RETRIES,
        min_backoff=1_000,
        max_backoff=600_000,
    )


ACTORS: dict[str, dramatiq.Actor] = {name: _make_actor(name) for name in stages.ORDER}
BATCH_ACTORS: dict[str, dramatiq.Actor] = {name: _make_batch_actor(name) for name in stages.ORDER}
