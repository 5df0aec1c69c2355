"""Process entry point: the SMTP listener on ``INTAKE_SMTP_LISTEN``.

Run several copies behind one address with ``SO_REUSEPORT`` (the default here).
"""

from __future__ import annotations

import logging
import signal
import threading

from aiosmtpd.controller import Controller
from psycopg_pool import ConnectionPool

from config import Settings
from config.logging import setup_logging
from pipeline.handover import hand_over
from pipeline.intake.smtp import IntakeHandler, IntakeSMTP
from workers import runtime
from workers.broker import broker
from workers.stages import queue

log = logging.getLogger(__name__)


class IntakeController(Controller):
    def __init__(self, handler: IntakeHandler, settings: Settings) -> None:
        super().__init__(
            handler,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            server_hostname=settings.smtp_hostname,
            ready_timeout=10.0,
        )
        self.settings = settings

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert)
        self.handler.close()

    def factory(self) -> IntakeSMTP:
        return IntakeSMTP(
            self.handler,
            data_size_limit=self.settings.max_message_bytes,
            hostname=self.settings.smtp_hostname,
            ident="Intake ESMTP",
        )

    def _create_server(self):
        return self.loop.create_server(
            self._factory_invoker,
            host=self.hostname,
            port=self.port,
            reuse_port=True,
            ssl=self.ssl_context,
        )


def make_controller(settings: Settings, pool: ConnectionPool, on_accepted) -> IntakeController:
    handler = IntakeHandler(pool, on_accepted, settings.smtp_hostname)
    return IntakeController(handler, settings)


def hand_over_accepted(ids: list[int]) -> None:
    """The shared hand-over of the messages the listener committed, their jobs sent to
    Redis in one round trip."""
    with broker.pipelined():
        hand_over(runtime.smtp_pool(), queue, ids)


def main() -> None:
    setup_logging()
    settings = runtime.settings()
    controller = make_controller(settings, runtime.smtp_pool(), hand_over_accepted)
    controller.start()
    log.info("SMTP listening on %s:%s", settings.smtp_host, settings.smtp_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
