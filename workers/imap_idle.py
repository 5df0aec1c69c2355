"""Process entry point ``imap-idle``: one IDLE watcher thread per active mailbox folder.

Every ``REFRESH_SECONDS`` the supervisor reads the active folders from PostgreSQL, starts
watchers for new ones and stops watchers of folders that were removed, deactivated or
reconfigured. A watcher first takes the folder's lease in Redis
(``<namespace>:imap:idle:<mailbox>:<folder>``, renewed while it watches), so any number
of ``imap-idle`` processes on any number of machines share the folders: each folder has
one IDLE connection, and a folder whose watcher dies is taken over within a minute.
A watcher's only action is to enqueue an incremental sync of its folder. Servers without
IDLE are left to the scheduler's polls.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
from psycopg_pool import ConnectionPool
from redis.exceptions import LockError
from redis.lock import Lock

from config import Settings
from config.logging import setup_logging
from pipeline.intake.imap_connect import ImapFailure
from pipeline.intake.imap_idle import watch_folder
from pipeline.store import mailboxes

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
RETRY_SECONDS = 30.0
LEASE_SECONDS = 60

Notify = Callable[[int, str], None]
Target = tuple[int, str]


class LeaseLost(Exception):
    """Another ``imap-idle`` process holds this folder now."""


@dataclass
class Watcher:
    fingerprint: str
    stop: threading.Event
    thread: threading.Thread


class IdleSupervisor:
    """Keeps one ``watch_folder`` thread per active folder, calling ``notify(mailbox, folder)``."""

    def __init__(
        self,
        pool: ConnectionPool,
        settings: Settings,
        notify: Notify,
        client: redis.Redis,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self.pool, self.settings, self.notify = pool, settings, notify
        self.redis, self.retry_seconds = client, retry_seconds
        self.watchers: dict[Target, Watcher] = {}

    def refresh(self) -> None:
        with self.pool.connection() as conn:
            wanted = mailboxes.watched_imap_folders(conn)
        for target, watcher in list(self.watchers.items()):
            if wanted.get(target) != watcher.fingerprint:
                self._stop(target)
        for target, fingerprint in wanted.items():
            if target not in self.watchers:
                self._start(target, fingerprint)

    def stop_all(self) -> None:
        for target in list(self.watchers):
            self._stop(target)

    def _start(self, target: Target, fingerprint: str) -> None:
        stop = threading.Event()
        name = f"idle-{target[0]}-{target[1]}"
        thread = threading.Thread(target=self._watch, args=(target, stop), name=name, daemon=True)
        self.watchers[target] = Watcher(fingerprint, stop, thread)
        thread.start()

    def _stop(self, target: Target) -> None:
        watcher = self.watchers.pop(target)
        watcher.stop.set()
        watcher.thread.join(timeout=5)

    def _watch(self, target: Target, stop: threading.Event) -> None:
        """Watch while holding the folder's lease; retry after failures or a busy lease."""
        namespace = self.settings.redis_namespace
        lease = self.redis.lock(
            f"{namespace}:imap:idle:{target[0]}:{target[1]}", timeout=LEASE_SECONDS
        )
        while not stop.is_set():
            if lease.acquire(blocking=False):
                try:
                    if not self._watch_leased(target, stop, lease):
                        return
                finally:
                    _release(lease)
            stop.wait(self.retry_seconds)

    def _watch_leased(self, target: Target, stop: threading.Event, lease: Lock) -> bool:
        """One connection's watch; ``False`` when there is nothing to watch (no IDLE, no account)."""
        mailbox_id, folder = target
        try:
            with self.pool.connection() as conn:
                account = mailboxes.imap_account(conn, self.settings.secret_key, mailbox_id)
        except ValueError:  # undecryptable password: the polls record it; a new one restarts us
            return False
        if account is None:
            return False
        try:
            notify, renew = (lambda: self.notify(*target)), _renewer(lease)
            if not watch_folder(account, folder, self.settings, notify, stop, renew):
                log.info("mailbox %s has no IDLE; polling only", mailbox_id)
                return False
        except ImapFailure as failure:
            log.warning("IDLE on mailbox %s folder %r: %s", mailbox_id, folder, failure.message)
        except LeaseLost:
            log.warning("IDLE lease of mailbox %s folder %r lost", mailbox_id, folder)
        except Exception:
            log.exception("IDLE watcher of mailbox %s folder %r crashed", mailbox_id, folder)
        return True


def _renewer(lease: Lock) -> Callable[[], None]:
    """A tick that renews ``lease`` every third of its TTL; raises ``LeaseLost``."""
    renewed = time.monotonic()

    def tick() -> None:
        nonlocal renewed
        if time.monotonic() - renewed < LEASE_SECONDS / 3:
            return
        try:
            lease.reacquire()
        except LockError as exc:
            raise LeaseLost() from exc
        renewed = time.monotonic()

    return tick


def _release(lease: Lock) -> None:
    try:
        lease.release()
    except LockError:
        return  # expired: someone else may hold it now, and that is fine


def main() -> None:
    from workers import runtime
    from workers.imap import redis_client, request_sync

    setup_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    supervisor = IdleSupervisor(runtime.pool(), runtime.settings(), request_sync, redis_client())
    while not stop.is_set():
        try:
            supervisor.refresh()
        except Exception:
            log.exception("could not refresh the IDLE watchers")
        stop.wait(REFRESH_SECONDS)
    supervisor.stop_all()


if __name__ == "__main__":
    main()
