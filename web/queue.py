"""Enqueue jobs from the web process by actor name, without importing the actors."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from config import Settings
from pipeline.events import DELIVER_ACTOR
from pipeline.outbound.send import SEND_ACTOR, SEND_QUEUE
from pipeline.outbound.webhooks import WEBHOOK_QUEUE
from pipeline.stages import Job, actor_name, queue_of
from pipeline.voicemail_audio import MEDIA_QUEUE, TRANSCODE_ACTOR

# The queue of each actor a web view may hand a ``Job`` to (stage actors are derived).
JOB_QUEUES = {
    SEND_ACTOR: SEND_QUEUE,
    DELIVER_ACTOR: WEBHOOK_QUEUE,
    TRANSCODE_ACTOR: MEDIA_QUEUE,  # stage jobs, when a request runs the pipeline inline
}


class JobQueue:
    """Sends Dramatiq messages to the workers' queues (same Redis namespace as workers)."""

    def __init__(self, settings: Settings) -> None:
        self.broker = RedisBroker(
            url=settings.redis_url,
            namespace=f"{settings.redis_namespace}:dramatiq",
            middleware=[],
        )

    def send(self, actor: str, queue: str, *args: object) -> None:
        self.broker.enqueue(
            dramatiq.Message(
                queue_name=queue,
                actor_name=actor,
                args=args,
                kwargs={},
                options={},
            )
        )

    def send_job(self, job: Job) -> None:
        """Enqueue a ``Job`` returned by a pipeline function (after the request commits)."""
        self.send(job.actor, JOB_QUEUES[job.actor], *job.args)

    def start_stage(self, stage: str, message_id: int) -> None:
        self.send(actor_name(stage), queue_of(stage), message_id)

    def ping(self) -> bool:
        return bool(self.broker.client.ping())
