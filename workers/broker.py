"""The Dramatiq broker over Redis, configured from the environment and set globally.

Import this module before any module that declares actors.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from config import Settings
from pipeline.queues import namespace
from workers import runtime

log = logging.getLogger(__name__)

# A worker process that has not called Redis for this long is dead, and Dramatiq puts the
# messages it had taken back on their queues (its default, a minute, is too slow for the
# 30 s recovery promise). Every consumer calls Redis at least once a worker timeout
# (``dramatiq_worker_timeout``, set in the Procfile).
HEARTBEAT_TIMEOUT_MS = 10_000
# Per million Redis commands, how many also look for dead workers' messages (Dramatiq's
# default 1,000): with idle consumers polling 20 times a second per queue, 2 % looks
# every few seconds per queue and worker process.
MAINTENANCE_CHANCE = 20_000


class WarmUp(dramatiq.Middleware):
    """Imports the stages and opens their connections when a worker process boots
    (``runtime.warm_up``)."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        try:
            runtime.warm_up()
        except Exception:  # the pool keeps connecting on its own; jobs wait for it
            log.warning("stage connections not ready at boot", exc_info=True)


def make_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(
        url=settings.redis_url,
        namespace=namespace(settings),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        maintenance_chance=MAINTENANCE_CHANCE,
    )
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(WarmUp())
    return broker


broker = make_broker(runtime.settings())
dramatiq.set_broker(broker)
