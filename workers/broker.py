"""The Dramatiq broker over Redis, configured from the environment and set globally.

Import this module before any module that declares actors.
"""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage

from config import Settings
from workers import runtime


def make_broker(settings: Settings) -> RedisBroker:
    broker = RedisBroker(url=settings.redis_url, namespace=f"{settings.redis_namespace}:dramatiq")
    broker.add_middleware(CurrentMessage())
    return broker


broker = make_broker(runtime.settings())
dramatiq.set_broker(broker)
