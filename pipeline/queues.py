"""The one registry of Dramatiq actors and their queues, and the client that sends to them.

Every process that hands work on (web, listener, workers, scheduler, CLI) sends a ``Job``
by actor name through ``JobQueue``; the queue comes from ``QUEUES``, and the workers
declare their actors on the same queues. The pipeline is one actor: a message goes
through every stage in one job and one transaction. Only work that is slow or talks to
the outside world has a queue of its own, so it never holds up mail: voicemail
transcoding (``media``), outbound mail (``outbound``), webhook deliveries
(``webhooks``) and IMAP syncs (``imap``).
"""

from __future__ import annotations

from collections.abc import Iterable

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from config import Settings
from pipeline.events import DELIVER_ACTOR
from pipeline.jobs import Job
from pipeline.outbound.send import SEND_ACTOR
from pipeline.voicemail_audio import TRANSCODE_ACTOR

PROCESS_ACTOR = "process_messages"
SYNC_IMAP_ACTOR = "sync_imap_folder"
PIPELINE_QUEUE = "pipeline"

QUEUES: dict[str, str] = {
    PROCESS_ACTOR: PIPELINE_QUEUE,
    TRANSCODE_ACTOR: "media",
    SEND_ACTOR: "outbound",
    DELIVER_ACTOR: "webhooks",
    SYNC_IMAP_ACTOR: "imap",
}


def namespace(settings: Settings) -> str:
    """The Redis key prefix of every Dramatiq queue."""
    return f"{settings.redis_namespace}:dramatiq"


def client_broker(settings: Settings) -> RedisBroker:
    """A broker that only sends (web, CLI): no middleware, no actors imported."""
    return RedisBroker(url=settings.redis_url, namespace=namespace(settings), middleware=[])


class JobQueue:
    """Sends ``Job``s to the queue ``QUEUES`` names for their actor, over any Redis broker
    (the workers' own, or ``client_broker``)."""

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker

    def send(self, job: Job, delay_ms: int | None = None) -> None:
        message = dramatiq.Message(
            queue_name=QUEUES[job.actor],
            actor_name=job.actor,
            args=job.args,
            kwargs={},
            options={},
        )
        self.broker.enqueue(message, delay=delay_ms)

    def send_jobs(self, jobs: Iterable[Job]) -> None:
        for job in jobs:
            self.send(job)

    def unfinished(self, queue: str) -> int:
        """Messages on ``queue`` not yet acknowledged: waiting, delayed for a retry, or
        taken by a worker (dead or alive). Zero after Redis lost its data."""
        client, prefix = self.broker.client, f"{self.broker.namespace}:{queue}"
        return int(client.hlen(f"{prefix}.msgs")) + int(client.hlen(f"{prefix}.DQ.msgs"))

    def ping(self) -> bool:
        return bool(self.broker.client.ping())
