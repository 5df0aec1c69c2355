"""The Dramatiq broker over Redis, configured from the environment and set globally.

Import this module before any module that declares actors.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import CurrentMessage
from redis.commands.core import Script
from redis.exceptions import NoScriptError

from config import Settings
from pipeline.queues import namespace
from workers import runtime

log = logging.getLogger(__name__)

MAX_IDLE_POLL_MS = 50
# A worker process that has not called Redis for this long is dead, and Dramatiq puts the
# messages it had taken back on their queues (its default, a minute, is too slow for the
# 30 s recovery promise). Every consumer calls Redis at least every MAX_IDLE_POLL_MS.
HEARTBEAT_TIMEOUT_MS = 10_000
# Per million Redis commands, how many also look for dead workers' messages (Dramatiq's
# default 1,000): with idle consumers polling 20 times a second per queue, 2 % looks
# every few seconds per queue and worker process.
MAINTENANCE_CHANCE = 20_000


class _DispatchScript:
    """Dramatiq's ``dispatch`` Lua script, whose ``enqueue`` calls are held back while the
    calling thread is inside ``IntakeBroker.pipelined`` (every other call runs at once)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.batch = threading.local()

    def __call__(self, keys=(), args=(), client=None):
        held = getattr(self.batch, "calls", None)
        if held is None or client is not None or not args or args[0] != "enqueue":
            return self.script(keys=keys, args=args, client=client)
        held.append((keys, args))  # Dramatiq ignores what an enqueue returns
        return None

    @contextmanager
    def holding(self) -> Iterator[None]:
        if getattr(self.batch, "calls", None) is not None:
            raise RuntimeError("pipelined() does not nest")
        self.batch.calls = calls = []
        try:
            yield
        finally:
            self.batch.calls = None
        self._send(calls)

    def _send(self, calls: list) -> None:
        """One round trip for ``calls``: plain ``EVALSHA`` (redis-py would first ask whether
        the script exists, a round trip of its own); one that finds the script gone (Redis
        restarted) runs again through ``Script``, which loads it."""
        if not calls:
            return
        pipe = self.script.registered_client.pipeline(transaction=False)
        for keys, args in calls:
            pipe.evalsha(self.script.sha, len(keys), *keys, *args)
        failed = None
        for (keys, args), result in zip(calls, pipe.execute(raise_on_error=False), strict=True):
            if isinstance(result, NoScriptError):
                self.script(keys=keys, args=args)
            elif isinstance(result, Exception):
                failed = failed or result
        if failed is not None:
            raise failed


class IntakeBroker(RedisBroker):
    """Dramatiq's Redis broker, able to send many enqueues in one round trip."""

    def __init__(self, **parameters) -> None:
        super().__init__(**parameters)
        self.dispatch_script = _DispatchScript(self.scripts["dispatch"])
        self.scripts["dispatch"] = self.dispatch_script

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        """Dramatiq's consumer, polling an empty queue at least every ``MAX_IDLE_POLL_MS``.

        An idle consumer backs off exponentially up to the worker's timeout (a second or
        more), and a message arriving meanwhile waits that long: under a steady load that
        was most of the tail of receive-to-ticket latency. A fetch of an empty queue is a
        cheap Redis call."""
        return super().consume(queue_name, prefetch, min(timeout, MAX_IDLE_POLL_MS))

    def pipelined(self) -> AbstractContextManager[None]:
        """Messages this thread enqueues inside the block reach Redis together at its end.

        One round trip instead of one per message (the SMTP listener hands over messages
        of many sessions at once). Nothing is sent if the block raises; an error sending
        raises here. ``after_enqueue`` hooks run before the messages are sent.
        """
        return self.dispatch_script.holding()


class WarmUp(dramatiq.Middleware):
    """Opens the stage connections when a worker process boots (``runtime.warm_up``)."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        try:
            runtime.warm_up()
        except Exception:  # the pool keeps connecting on its own; jobs wait for it
            log.warning("stage connections not ready at boot", exc_info=True)


def make_broker(settings: Settings) -> IntakeBroker:
    broker = IntakeBroker(
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
