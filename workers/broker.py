"""The Dramatiq broker over Redis, configured from the environment and set globally.

Import this module before any module that declares actors.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage
from redis.commands.core import Script

from config import Settings
from workers import runtime


class _DispatchScript:
    """Dramatiq's ``dispatch`` Lua script, queued on the calling thread's pipeline when it
    has one (see ``IntakeBroker.pipelined``), run at once otherwise."""

    def __init__(self, script: Script, batch: threading.local) -> None:
        self.script = script
        self.batch = batch

    def __call__(self, keys=(), args=(), client=None):
        return self.script(keys=keys, args=args, client=client or getattr(self.batch, "pipe", None))


class IntakeBroker(RedisBroker):
    """Dramatiq's Redis broker, able to send many enqueues in one round trip."""

    def __init__(self, **parameters) -> None:
        super().__init__(**parameters)
        self._batch = threading.local()
        self.scripts["dispatch"] = _DispatchScript(self.scripts["dispatch"], self._batch)

    @contextmanager
    def pipelined(self) -> Iterator[None]:
        """Messages this thread enqueues inside the block reach Redis together at its end.

        One round trip instead of one per message (the SMTP listener hands over messages
        of many sessions at once). Nothing is sent if the block raises; an error sending
        raises here. ``after_enqueue`` hooks run before the messages are sent.
        """
        if getattr(self._batch, "pipe", None) is not None:
            raise RuntimeError("pipelined() does not nest")
        pipe = self.client.pipeline(transaction=False)
        self._batch.pipe = pipe
        try:
            yield
        finally:
            self._batch.pipe = None
        pipe.execute()


def make_broker(settings: Settings) -> IntakeBroker:
    broker = IntakeBroker(url=settings.redis_url, namespace=f"{settings.redis_namespace}:dramatiq")
    broker.add_middleware(CurrentMessage())
    return broker


broker = make_broker(runtime.settings())
dramatiq.set_broker(broker)
