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
from collections.abc import Callable

from imapclient import SEEN, IMAPClient
from psycopg_pool import ConnectionPool

from config import Settings
from pipeline.db import Connection
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
from pipeline.intake.imap_report import SyncReport, record_failure, record_success
from pipeline.records import ImapAccount, Mailbox
from pipeline.store import mailbox_folders, mailboxes, messages

log = logging.getLogger(__name__)

UNREADABLE_PASSWORD = (
    "the stored password cannot be decrypted (was INTAKE_SECRET_KEY changed?); set it again"
)

__all__ = ["ImapFailure", "SyncReport", "SyncRequest", "sync_folder"]


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
    report = SyncReport(mailbox_id, folder)
    with pool.connection() as conn:
        box = mailboxes.find_by_id(conn, mailbox_id)
        try:
            account = mailboxes.imap_account(conn, settings.secret_key, mailbox_id)
        except ValueError:
            return _failed(pool, box, report, ImapFailure("auth", UNREADABLE_PASSWORD), request)
    if box is None or account is None:
        return None
    try:
        with session(account, settings) as client:
            _import(pool, settings, client, account, report, request, on_accepted)
    except ImapFailure as failure:
        return _failed(pool, box, report, failure, request)
    report.jobs = record_success(pool, box, report, request)
    return report


def _failed(
    pool: ConnectionPool,
    box: Mailbox | None,
    report: SyncReport,
    failure: ImapFailure,
    request: SyncRequest,
) -> SyncReport | None:
    if box is None:
        return None
    report.error = failure.message
    report.jobs = record_failure(pool, box, report.folder, failure, request)
    return report


def _select(client: IMAPClient, account: ImapAccount, folder: str) -> int:
    """Select ``folder`` and return its UIDVALIDITY; raises ``ImapFailure``."""
    try:
        selected = client.select_folder(folder, readonly=not account.mark_seen)
    except IMAPClient.Error as exc:
        if not client.folder_exists(folder):
            raise ImapFailure("folder", f"folder {folder!r} does not exist on the server") from exc
        raise
    if b"UIDVALIDITY" not in selected:  # RFC 3501 requires it; without it UIDs mean nothing
        raise ImapFailure("protocol", f"the server gave no UIDVALIDITY for folder {folder!r}")
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
            message_id = _accept(conn, box, folder, item)
        elif item.skip_reason == TOO_LARGE:
            log.warning(
                "mailbox %s folder %r uid %s: %s bytes is over the size limit; skipped",
                *(box.id, folder, item.uid, item.size),
            )
            mailbox_folders.record_skip(
                conn, box, folder, uidvalidity, item.uid, item.size, TOO_LARGE
            )
        mailbox_folders.advance(conn, box.id, folder, item.uid)
    return message_id


def _accept(conn: Connection, box: Mailbox, folder: str, item: Fetched) -> int:
    """The one door, dated by the server's INTERNALDATE when it gave one."""
    assert item.raw is not None
    envelope = envelope_of(item.raw, box)
    message_id = accept_raw(conn, item.raw, envelope, "imap", box, folder=folder, imap_uid=item.uid)
    if item.internal_date is not None:
        messages.set_received_at(conn, message_id, item.internal_date)
    return message_id
