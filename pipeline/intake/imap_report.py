"""The outcome of one folder sync: its counts, how it is recorded, which event it raises.

``sync.completed`` is raised when a sync imported or skipped something, resynced, or was
asked for through the API; a quiet poll raises nothing, so subscribers are not woken every
minute per folder. ``sync.failed`` is raised when a folder's error is new or the sync was
asked for: a server that stays down is reported once, not on every poll.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from psycopg_pool import ConnectionPool

from pipeline import event_payloads, events
from pipeline.intake.imap_connect import ImapFailure
from pipeline.intake.imap_fetch import SyncRequest
from pipeline.jobs import Job
from pipeline.records import Mailbox
from pipeline.store import mailbox_folders, mailboxes

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What one sync did; ``error`` is set when it failed. ``jobs`` go out after commit."""

    mailbox_id: int
    folder: str
    fetched: int = 0
    skipped: int = 0
    uidvalidity: int | None = None
    last_uid: int = 0
    resync: str | None = None
    error: str | None = None
    message_ids: list[int] = field(default_factory=list)
    jobs: tuple[Job, ...] = ()

    def event_data(self) -> dict[str, object]:
        """The ``sync.completed`` payload of this sync."""
        return event_payloads.sync_completed(
            self.mailbox_id,
            self.folder,
            fetched=self.fetched,
            skipped=self.skipped,
            uidvalidity=self.uidvalidity,
            last_uid=self.last_uid,
            resync=self.resync,
        )


def _event_key(kind: str, report_or_box: int, folder: str) -> str:
    return f"{kind}:{report_or_box}:{folder}:{uuid.uuid4().hex}"


def record_success(
    pool: ConnectionPool, box: Mailbox, report: SyncReport, request: SyncRequest
) -> tuple[Job, ...]:
    """Stamp the sync; raise ``sync.completed`` when it did something or was asked for."""
    with pool.connection() as conn, conn.transaction():
        mailbox_folders.mark_synced(conn, box.id, report.folder)
        mailboxes.record_sync_success(conn, box.id)
        if not (report.fetched or report.skipped or report.resync or request.manual):
            return ()
        key = _event_key("sync.completed", box.id, report.folder)
        return events.emit(conn, box.org_id, "sync.completed", key, report.event_data())


def record_failure(
    pool: ConnectionPool,
    box: Mailbox,
    folder: str,
    failure: ImapFailure,
    request: SyncRequest,
) -> tuple[Job, ...]:
    """Record the error; raise ``sync.failed`` when it is new (not on every poll) or asked for."""
    log.warning("IMAP sync of mailbox %s folder %r failed: %s", box.id, folder, failure.message)
    with pool.connection() as conn, conn.transaction():
        previous = mailbox_folders.mark_failed(conn, box, folder, failure.message)
        mailboxes.record_sync_error(conn, box.id, failure.message)
        if previous == failure.message and not request.manual:
            return ()
        data = event_payloads.sync_failed(box.id, folder, failure.kind, failure.message)
        key = _event_key("sync.failed", box.id, folder)
        return events.emit(conn, box.org_id, "sync.failed", key, data)
