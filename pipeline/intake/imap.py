"""The IMAP channel: import one folder of one mailbox through the one door.

``sync_folder`` connects, selects the folder (read-only unless the mailbox marks mail
seen), compares UIDVALIDITY with what was stored, and imports each message in its own
transaction together with the new last UID, so a crash at any point re-reads at most the
message in flight (and the dedupe stage absorbs it). It never raises for a server
problem: the error is recorded on the mailbox and folder and ``sync.failed`` is raised,
so one broken mailbox never stops the others.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from imapclient import SEEN, IMAPClient
from psycopg_pool import ConnectionPool

from config import Settings
from pipeline import events
from pipeline.intake import accept_raw
from pipeline.intake.imap_connect import ImapFailure, session
from pipeline.intake.imap_fetch import (
    TOO_LARGE,
    Fetched,
    SyncRequest,
    envelope_of,
    poll_folder,
    resync_reason,
    uids_to_read,
)
from pipeline.records import ImapAccount
from pipeline.stages import Job
from pipeline.store import mailbox_folders, mailboxes, messages

log = logging.getLogger(__name__)

__all__ = ["ImapFailure", "SyncReport", "SyncRequest", "sync_folder"]


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

    def counts(self) -> dict[str, object]:
        return {
            "account_id": self.mailbox_id,
            "folder": self.folder,
            "fetched": self.fetched,
            "skipped": self.skipped,
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "resync": self.resync,
        }


def sync_folder(
    pool: ConnectionPool,
    settings: Settings,
    mailbox_id: int,
    folder: str,
    request: SyncRequest,
    on_accepted: Callable[[int], None],
) -> SyncReport | None:
    """Import new mail of ``folder``; ``None`` if the mailbox is gone or has no IMAP settings.

    ``on_accepted(message_id)`` is called after each message has committed.
    """
    with pool.connection() as conn:
        account = mailboxes.imap_account(conn, settings.secret_key, mailbox_id)
    if account is None:
        return None
    report = SyncReport(mailbox_id, folder)
    try:
        with session(account, settings.imap_timeout_seconds, settings.imap_verify_tls) as client:
            _import(pool, settings, client, account, report, request, on_accepted)
    except ImapFailure as failure:
        report.error = failure.message
        report.jobs = _record_failure(pool, account, folder, failure, request)
        return report
    report.jobs = _record_success(pool, account, report, request)
    return report


def _select(client: IMAPClient, account: ImapAccount, folder: str) -> int:
    """Select ``folder`` and return its UIDVALIDITY; raises ``ImapFailure``."""
    try:
        selected = client.select_folder(folder, readonly=not account.mark_seen)
    except IMAPClient.Error as exc:
        if not client.folder_exists(folder):
            raise ImapFailure("folder", f"folder {folder!r} does not exist on the server") from exc
        raise
    return int(selected[b"UIDVALIDITY"])


def _import(
    pool: ConnectionPool,
    settings: Settings,
    client: IMAPClient,
    account: ImapAccount,
    report: SyncReport,
    request: SyncRequest,
    on_accepted: Callable[[int], None],
) -> None:
    folder = report.folder
    uidvalidity = _select(client, account, folder)
    with pool.connection() as conn, conn.transaction():
        state = mailbox_folders.load(conn, account.mailbox, folder)
        if state.uidvalidity != uidvalidity:
            mailbox_folders.restart(conn, account.mailbox.id, folder, uidvalidity)
    report.uidvalidity = uidvalidity
    report.last_uid = state.last_uid if state.uidvalidity == uidvalidity else 0
    report.resync = resync_reason(state, uidvalidity, request)
    uids = uids_to_read(client, state, report.resync, request.since)
    for item in poll_folder(client, uids, settings.max_message_bytes):
        message_id = _store(pool, account, folder, uidvalidity, item)
        report.last_uid = max(report.last_uid, item.uid)
        if message_id is None:
            report.skipped += item.skip_reason == TOO_LARGE
            continue
        report.fetched += 1
        report.message_ids.append(message_id)
        on_accepted(message_id)
        if account.mark_seen:
            client.add_flags([item.uid], [SEEN], silent=True)


def _store(
    pool: ConnectionPool, account: ImapAccount, folder: str, uidvalidity: int, item: Fetched
) -> int | None:
    """Commit the message (or the record of its skip) together with the new last UID."""
    box = account.mailbox
    with pool.connection() as conn, conn.transaction():
        message_id = None
        if item.raw is not None:
            envelope = envelope_of(item.raw, box)
            message_id = accept_raw(
                conn, item.raw, envelope, "imap", box, folder=folder, imap_uid=item.uid
            )
            if item.internal_date is not None:
                messages.set_received_at(conn, message_id, item.internal_date)
        elif item.skip_reason == TOO_LARGE:
            log.warning(
                "mailbox %s folder %r uid %s: %s bytes is over the size limit; skipped",
                box.id,
                folder,
                item.uid,
                item.size,
            )
            mailbox_folders.record_skip(
                conn, box, folder, uidvalidity, item.uid, item.size, TOO_LARGE
            )
        mailbox_folders.advance(conn, box.id, folder, item.uid)
    return message_id


def _event_key(kind: str, report_or_box: int, folder: str) -> str:
    return f"{kind}:{report_or_box}:{folder}:{uuid.uuid4().hex}"


def _record_success(
    pool: ConnectionPool, account: ImapAccount, report: SyncReport, request: SyncRequest
) -> tuple[Job, ...]:
    """Stamp the sync; raise ``sync.completed`` when it did something or was asked for."""
    box = account.mailbox
    with pool.connection() as conn, conn.transaction():
        mailbox_folders.mark_synced(conn, box.id, report.folder)
        mailboxes.record_sync_success(conn, box.id)
        if not (report.fetched or report.skipped or report.resync or request.manual):
            return ()
        key = _event_key("sync.completed", box.id, report.folder)
        return events.emit(conn, box.org_id, "sync.completed", key, report.counts())


def _record_failure(
    pool: ConnectionPool,
    account: ImapAccount,
    folder: str,
    failure: ImapFailure,
    request: SyncRequest,
) -> tuple[Job, ...]:
    """Record the error; raise ``sync.failed`` when it is new (not on every poll) or asked for."""
    box = account.mailbox
    log.warning("IMAP sync of mailbox %s folder %r failed: %s", box.id, folder, failure.message)
    with pool.connection() as conn, conn.transaction():
        previous = mailbox_folders.mark_failed(conn, box, folder, failure.message)
        mailboxes.record_sync_error(conn, box.id, failure.message)
        if previous == failure.message and not request.manual:
            return ()
        data = {"account_id": box.id, "folder": folder, "kind": failure.kind}
        data["error"] = failure.message
        key = _event_key("sync.failed", box.id, folder)
        return events.emit(conn, box.org_id, "sync.failed", key, data)
