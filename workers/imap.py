"""The IMAP sync actor: one job per mailbox folder, never two at once for the same folder.

A Redis lock (``<namespace>:imap:lock:<mailbox>:<folder>``, with a TTL renewed as mail is
imported, so a crashed worker cannot hold it forever) keeps syncs of one folder apart.
A poll or IDLE notice that finds the folder busy leaves an "again" mark instead, and the
running job makes one more incremental pass before it lets go: mail that arrived during a
long sync is not left for the next poll. A "queued" mark stops the scheduler piling up
jobs for a folder whose previous job is still waiting in the queue.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import cache

import dramatiq
import redis
from redis.exceptions import LockError
from redis.lock import Lock

from config import Settings
from pipeline.handover import hand_over
from pipeline.intake.imap import SyncReport, SyncRequest, sync_folder
from pipeline.queues import QUEUES, SYNC_IMAP_ACTOR
from pipeline.store import mailboxes
from workers import runtime
from workers.broker import broker
from workers.stages import queue, send_jobs

log = logging.getLogger(__name__)

ACTOR = SYNC_IMAP_ACTOR
BUSY_RETRY_MS = 5_000


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(runtime.settings().redis_url)


def key(settings: Settings, what: str, mailbox_id: int, folder: str) -> str:
    return f"{settings.redis_namespace}:imap:{what}:{mailbox_id}:{folder}"


@dramatiq.actor(
    actor_name=ACTOR,
    queue_name=QUEUES[ACTOR],
    broker=broker,
    max_retries=3,
    min_backoff=5_000,
    time_limit=6 * 3_600_000,
)
def sync_imap_folder(
    mailbox_id: int,
    folder: str,
    full_resync: bool = False,
    since_date: str | None = None,
    manual: bool = False,
) -> None:
    since = date.fromisoformat(since_date) if since_date else None
    run_sync(mailbox_id, folder, SyncRequest(full_resync, since, manual))


def run_sync(mailbox_id: int, folder: str, request: SyncRequest) -> SyncReport | None:
    """Sync under the folder's lock; ``None`` when another job holds it."""
    settings, client = runtime.settings(), redis_client()
    client.delete(key(settings, "queued", mailbox_id, folder))
    lock = client.lock(
        key(settings, "lock", mailbox_id, folder), timeout=settings.imap_lock_seconds
    )
    if not lock.acquire(blocking=False):
        _defer(settings, mailbox_id, folder, request)
        return None
    try:
        return _sync_until_quiet(settings, lock, mailbox_id, folder, request)
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("IMAP lock of mailbox %s folder %r expired during sync", mailbox_id, folder)


def _defer(settings: Settings, mailbox_id: int, folder: str, request: SyncRequest) -> None:
    """The folder is busy: ask the running job for another pass, or retry an explicit request."""
    if request == SyncRequest():
        redis_client().set(
            key(settings, "again", mailbox_id, folder), 1, ex=settings.imap_lock_seconds
        )
        return
    since = request.since.isoformat() if request.since else None
    sync_imap_folder.send_with_options(
        args=(mailbox_id, folder, request.full_resync, since, request.manual),
        delay=BUSY_RETRY_MS,
    )


def _sync_until_quiet(
    settings: Settings, lock: Lock, mailbox_id: int, folder: str, request: SyncRequest
) -> SyncReport | None:
    again = key(settings, "again", mailbox_id, folder)

    def accepted(message_id: int) -> None:
        try:
            hand_over(runtime.pool(), queue, [message_id])
        except Exception:  # committed already: the scheduler's pick-up hands it over
            log.exception("hand-over failed after commit for message %s", message_id)
        lock.reacquire()  # renew the TTL: this long sync is alive

    while True:
        redis_client().delete(again)
        report = sync_folder(runtime.pool(), settings, mailbox_id, folder, request, accepted)
        if report is not None:
            _send_after_commit(report)
        if report is None or report.error or not redis_client().delete(again):
            return report
        request = SyncRequest()


def _send_after_commit(report: SyncReport) -> None:
    try:
        send_jobs(report.jobs)
    except Exception:  # the events are stored; their deliveries are retried from the table
        log.exception("could not enqueue sync event deliveries for mailbox %s", report.mailbox_id)


def enqueue_polls() -> int:
    """Enqueue a sync of every active folder not already waiting in the queue; return how many."""
    with runtime.pool().connection() as conn:
        targets = mailboxes.active_imap_folders(conn)
    return sum(request_sync(mailbox_id, folder) for mailbox_id, folder in targets)


def request_sync(mailbox_id: int, folder: str) -> bool:
    """Enqueue an incremental sync unless one is already waiting; ``True`` if enqueued.

    Used by the scheduler's polls and the IDLE watchers' notices alike, so a burst of
    new-mail notices costs one job, not one per message.
    """
    settings = runtime.settings()
    marker = key(settings, "queued", mailbox_id, folder)
    if not redis_client().set(marker, 1, nx=True, ex=max(settings.imap_poll_seconds * 10, 60)):
        return False
    sync_imap_folder.send(mailbox_id, folder)
    return True
