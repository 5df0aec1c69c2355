"""Process entry point: periodic work (the pick-up and the sweeper, IMAP polls, retries).

Every ``PICK_UP_SECONDS`` the pick-up hands over messages a crash left behind
(``pipeline.handover.pick_up``); the sweep after ``INTAKE_SWEEP_AFTER_SECONDS`` stays as
the last net for anything else. Several schedulers may run; a PostgreSQL advisory lock
lets one sweep at a time, and a message handed over twice is still worked on once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from config import Settings
from config.logging import setup_logging
from pipeline.handover import LOST_AFTER_SECONDS, hand_over, pick_up
from pipeline.queues import JobQueue
from pipeline.store import message_queries, messages, outbound, webhooks
from workers import runtime

log = logging.getLogger(__name__)

SWEEP_LOCK = 0x1A7A_0001
PICK_UP_SECONDS = 2.0
LOST_MAIL_SECONDS = 5.0


def sweep(pool: ConnectionPool, settings: Settings, queue: JobQueue) -> int:
    """Hand over again messages stalled in a non-final state; return how many."""
    with pool.connection() as conn, conn.transaction():
        locked = conn.execute(
            "SELECT pg_try_advisory_xact_lock(%s) AS ok", (SWEEP_LOCK,)
        ).fetchone()
        if not locked["ok"]:
            return 0
        stalled = message_queries.stalled(conn, settings.sweep_after_seconds)
        if stalled:
            messages.touch(conn, stalled)
    if stalled:
        hand_over(pool, queue, stalled)
        log.info("sweeper handed over %d stalled messages", len(stalled))
    return len(stalled)


@dataclass(frozen=True)
class Periodic:
    """A task the scheduler runs every ``every`` seconds."""

    name: str
    every: float
    run: Callable[[], object]


def requeue_webhook_attempts(pool: ConnectionPool, settings: Settings, send) -> int:
    """Hand due webhook attempts (retries, lost first jobs, expired leases) to the workers."""
    with pool.connection() as conn, conn.transaction():
        due = webhooks.due(
            conn, requeue_after_seconds=max(60.0, settings.webhook_timeout_seconds * 3)
        )
    for delivery_id in due:
        send(delivery_id)
    return len(due)


def requeue_lost_mail(pool: ConnectionPool, send) -> int:
    """Enqueue again queued mail whose first send job never ran (crash before enqueue).
    Soon: a second job for mail still waiting finds it claimed and sends nothing."""
    with pool.connection() as conn, conn.transaction():
        lost = outbound.never_attempted(conn, LOST_AFTER_SECONDS)
    for sent_mail_id in lost:
        send(sent_mail_id)
    return len(lost)


def periodic_tasks(settings: Settings) -> list[Periodic]:
    """Everything the scheduler does; later channels add their polls here."""
    from workers.imap import enqueue_polls
    from workers.media import requeue_lost_audio
    from workers.outbound import send_mail
    from workers.stages import queue
    from workers.webhooks import deliver_webhook

    return [
        Periodic("pick_up", PICK_UP_SECONDS, lambda: pick_up(runtime.pool(), queue)),
        Periodic(
            "sweep",
            settings.sweep_interval_seconds,
            lambda: sweep(runtime.pool(), settings, queue),
        ),
        Periodic(
            "voicemail_audio",
            settings.sweep_interval_seconds,
            lambda: requeue_lost_audio(runtime.pool(), settings),
        ),
        Periodic(
            "webhook_retries",
            settings.webhook_retry_interval_seconds,
            lambda: requeue_webhook_attempts(runtime.pool(), settings, deliver_webhook.send),
        ),
        Periodic(
            "lost_mail",
            LOST_MAIL_SECONDS,
            lambda: requeue_lost_mail(runtime.pool(), send_mail.send),
        ),
        Periodic("imap_poll", settings.imap_poll_seconds, enqueue_polls),
    ]


def run_forever(tasks: list[Periodic], stop: threading.Event) -> None:
    due = dict.fromkeys((t.name for t in tasks), 0.0)
    while not stop.is_set():
        for task in tasks:
            if time.monotonic() >= due[task.name]:
                try:
                    task.run()
                except Exception:
                    log.exception("periodic task %s failed", task.name)
                due[task.name] = time.monotonic() + task.every
        stop.wait(min(1.0, *(max(0.0, d - time.monotonic()) for d in due.values())))


def main() -> None:
    setup_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tasks = periodic_tasks(runtime.settings())
    log.info("scheduler started: %s", ", ".join(t.name for t in tasks))
    run_forever(tasks, stop)


if __name__ == "__main__":
    main()
