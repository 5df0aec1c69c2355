"""Process entry point ``imap-idle``: one IDLE watcher thread per active mailbox folder.

Every ``REFRESH_SECONDS`` the supervisor reads the active folders from PostgreSQL, starts
watchers for new ones and stops watchers of folders that were removed, deactivated or
reconfigured. A watcher's only action is to enqueue an incremental sync of its folder,
so running two of these processes costs connections but never duplicates mail. Servers
without IDLE are left to the scheduler's polls.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from config import Settings
from pipeline.intake.imap_connect import ImapFailure
from pipeline.intake.imap_idle import watch_folder
from pipeline.store import mailboxes

log = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0
RETRY_SECONDS = 30.0

Notify = Callable[[int, str], None]
Target = tuple[int, str]


@dataclass
class Watcher:
    fingerprint: str
    stop: threading.Event
    thread: threading.Thread


class IdleSupervisor:
    """Keeps one ``watch_folder`` thread per active folder, calling ``notify(mailbox, folder)``."""

    def __init__(self, pool: ConnectionPool, settings: Settings, notify: Notify) -> None:
        self.pool, self.settings, self.notify = pool, settings, notify
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
        thread = threading.Thread(
            target=self._watch,
            args=(target, stop),
            name=f"idle-{target[0]}-{target[1]}",
            daemon=True,
        )
        self.watchers[target] = Watcher(fingerprint, stop, thread)
        thread.start()

    def _stop(self, target: Target) -> None:
        watcher = self.watchers.pop(target)
        watcher.stop.set()
        watcher.thread.join(timeout=5)

    def _watch(self, target: Target, stop: threading.Event) -> None:
        """Watch until stopped; reconnect after failures (the polls record the errors)."""
        mailbox_id, folder = target
        while not stop.is_set():
            with self.pool.connection() as conn:
                account = mailboxes.imap_account(conn, self.settings.secret_key, mailbox_id)
            if account is None:
                return
            try:
                if not watch_folder(
                    account, folder, self.settings, lambda: self.notify(*target), stop
                ):
                    log.info("mailbox %s has no IDLE; polling only", mailbox_id)
                    return
            except ImapFailure as failure:
                log.warning("IDLE on mailbox %s folder %r: %s", mailbox_id, folder, failure.message)
            except Exception:
                log.exception("IDLE watcher of mailbox %s folder %r crashed", mailbox_id, folder)
            stop.wait(RETRY_SECONDS)


def main() -> None:
    from workers import runtime
    from workers.imap import request_sync

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    supervisor = IdleSupervisor(runtime.pool(), runtime.settings(), request_sync)
    while not stop.is_set():
        try:
            supervisor.refresh()
        except Exception:
            log.exception("could not refresh the IDLE watchers")
        stop.wait(REFRESH_SECONDS)
    supervisor.stop_all()


if __name__ == "__main__":
    main()
