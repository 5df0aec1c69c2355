"""The pipeline actor: each message of a job through every pending stage, in one
transaction per message.

One actor, not one per stage: every stage is quick database work, and a queue hop costs
more than most stages. What is slow or talks to the outside world (voicemail audio,
outbound mail, webhook deliveries) is a job a stage returns, sent after commit to an
actor on its own queue (``pipeline.queues``). Messages handed over together go a few to
a job (``pipeline.handover.BATCH_SIZE``): taking a job off the queue, acknowledging it
and recording its timings cost about as much as a message's smallest stages. A message
that fails in a batch is sent again alone, to be retried with backoff.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import dramatiq

from pipeline import metrics
from pipeline.errors import PermanentError
from pipeline.handover import send_after_commit
from pipeline.jobs import Job
from pipeline.queues import PROCESS_ACTOR, QUEUES, JobQueue
from pipeline.runner import StageResult, run_message
from pipeline.stage_order import ORDER
from workers import runtime
from workers.broker import broker

log = logging.getLogger(__name__)

MAX_RETRIES = 8
RETRY_ALONE_DELAY_MS = 1_000

queue = JobQueue(broker)


def send_jobs(jobs: tuple[Job, ...]) -> None:
    """Send jobs through the workers' broker (after commit)."""
    queue.send_jobs(jobs)


@dataclass
class Timings:
    """Stage runs of one job, recorded together at its end: (stage, seconds) pairs."""

    ok: list[metrics.Observation] = field(default_factory=list)
    failed: list[metrics.Observation] = field(default_factory=list)


@dramatiq.actor(
    actor_name=PROCESS_ACTOR,
    queue_name=QUEUES[PROCESS_ACTOR],
    broker=broker,
    max_retries=MAX_RETRIES,
    min_backoff=1_000,
    max_backoff=600_000,
    throws=(PermanentError,),
)
def process_messages(message_ids: list[int]) -> None:
    """Run each message through its pending stages. A lone message that fails is retried
    by Dramatiq; one failing in a batch is sent again alone (a permanent failure is
    already recorded on the message)."""
    timings = Timings()
    try:
        if len(message_ids) == 1:
            _process(message_ids[0], timings)
            return
        for message_id in message_ids:
            try:
                _process(message_id, timings)
            except PermanentError:
                continue
            except Exception:
                log.warning("message failed in a batch, retried alone", exc_info=True)
                queue.send(Job(PROCESS_ACTOR, ([message_id],)), delay_ms=RETRY_ALONE_DELAY_MS)
    finally:
        _observe(timings)


def _process(message_id: int, timings: Timings) -> None:
    """Run one message, adding its stages' durations to ``timings``; send its jobs."""
    started, progress = time.perf_counter(), StageResult(None)
    try:
        result = run_message(runtime.stage_pool(), message_id, runtime.stage_context(), progress)
    except Exception:
        failed = progress.next_stage or ORDER[0]  # the claim itself failed
        timings.failed.append((failed, time.perf_counter() - started))
        raise
    if result is None:
        return
    timings.ok.extend(result.seconds.items())
    send_after_commit(queue, result.jobs)


def _observe(timings: Timings) -> None:
    namespace = runtime.settings().redis_namespace
    try:
        metrics.observe_stages(broker.client, namespace, timings.ok, ok=True)
        metrics.observe_stages(broker.client, namespace, timings.failed, ok=False)
    except Exception:  # metrics never fail a stage
        log.warning("could not record stage metrics", exc_info=True)
