"""Enqueue jobs from the web process by actor name, without importing the actors."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from config import Settings
from pipeline.stages import actor_name, queue_of


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

    def start_stage(self, stage: str, message_id: int) -> None:
        self.send(actor_name(stage), queue_of(stage), message_id)

    def ping(self) -> bool:
        return bool(self.broker.client.ping())
