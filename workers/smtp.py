"""Process entry point: the SMTP listener on ``INTAKE_SMTP_LISTEN``.

Run several copies behind one address: each binds with ``SO_REUSEPORT``.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from psycopg_pool import ConnectionPool

from config import Settings
from config.logging import setup_logging
from pipeline.handover import hand_over
from pipeline.intake.smtp import IntakeHandler
from pipeline.intake.smtp_server import Listener
from workers import runtime
from workers.stages import queue

log = logging.getLogger(__name__)


def make_listener(
    settings: Settings, pool: ConnectionPool, on_accepted: Callable[[list[int]], None]
) -> Listener:
    """The listener ``settings`` describe, storing over ``pool``."""
    return Listener(
        IntakeHandler(pool, on_accepted, settings.smtp_hostname),
        settings.smtp_host,
        settings.smtp_port,
        max_connections_per_ip=settings.smtp_max_connections_per_ip,
        data_size_limit=settings.max_message_bytes,
        hostname=settings.smtp_hostname,
        ident="Intake ESMTP",
        timeout=settings.smtp_idle_seconds,
    )


def hand_over_accepted(ids: list[int]) -> None:
    """The shared hand-over of the messages the listener committed."""
    hand_over(runtime.smtp_pool(), queue, ids)


def main() -> None:
    setup_logging()
    settings = runtime.settings()
    listener = make_listener(settings, runtime.smtp_pool(), hand_over_accepted)
    listener.start()
    log.info("SMTP listening on %s:%s", settings.smtp_host, settings.smtp_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    listener.stop()


if __name__ == "__main__":
    main()
