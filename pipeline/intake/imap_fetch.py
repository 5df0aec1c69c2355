"""Read a selected IMAP folder: which UIDs to read, then a generator over them.

``poll_folder`` yields one ``Fetched`` per UID in ascending order; the caller commits each
before asking for the next, so the last UID only ever advances past committed mail
(Zulip's gateway acknowledges the same way). Bodies are fetched with ``BODY.PEEK[]``, which
leaves them unseen; sizes are checked with ``RFC822.SIZE`` first, so an oversized message
is never downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr

from imapclient import IMAPClient

from pipeline.records import Envelope, Mailbox
from pipeline.store.mailbox_folders import FolderState

SIZE_BATCH = 500
BODY_BATCH_BYTES = 8 * 1024 * 1024
BODY_BATCH_COUNT = 50
TOO_LARGE = "too_large"
VANISHED = "vanished"


@dataclass(frozen=True)
class SyncRequest:
    """What to read: new mail only (the default), the whole folder, or mail since a date."""

    full_resync: bool = False
    since: date | None = None
    manual: bool = False


@dataclass(frozen=True)
class Fetched:
    """One UID's outcome: its bytes, or why there are none (``TOO_LARGE``, ``VANISHED``)."""

    uid: int
    raw: bytes | None
    size: int | None
    skip_reason: str | None = None
    internal_date: datetime | None = None


def resync_reason(state: FolderState, uidvalidity: int, request: SyncRequest) -> str | None:
    """Why this sync re-reads old mail, or ``None`` for an incremental sync."""
    if state.uidvalidity is not None and state.uidvalidity != uidvalidity:
        return "uidvalidity_changed"
    if request.full_resync:
        return "full_resync"
    if request.since is not None:
        return "since_date"
    return None


def uids_to_read(
    client: IMAPClient, state: FolderState, reason: str | None, since: date | None
) -> list[int]:
    """The UIDs to import, ascending."""
    if reason == "since_date" and since is not None:
        return sorted(client.search(["SINCE", since]))
    if reason is not None:
        return sorted(client.search("ALL"))
    # "n:*" always matches the highest UID even when it is below n (RFC 3501 §6.4.8),
    # so filter; searching first also avoids imapclient 4.1's error on "n:*" fetches.
    found = client.search(["UID", f"{state.last_uid + 1}:*"])
    return sorted(uid for uid in found if uid > state.last_uid)


def poll_folder(client: IMAPClient, uids: list[int], max_bytes: int) -> Iterator[Fetched]:
    """Yield every UID of ``uids`` with its raw bytes, or the reason it was skipped."""
    for start in range(0, len(uids), SIZE_BATCH):
        chunk = uids[start : start + SIZE_BATCH]
        found = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
        meta = [Fetched(uid, None, *_size_and_date(found.get(uid))) for uid in chunk]
        yield from _fetch_bodies(client, meta, max_bytes)


def _size_and_date(data: dict | None) -> tuple[int | None, str | None, datetime | None]:
    if data is None:
        return None, VANISHED, None
    return data.get(b"RFC822.SIZE"), None, data.get(b"INTERNALDATE")


def _fetch_bodies(client: IMAPClient, meta: list[Fetched], max_bytes: int) -> Iterator[Fetched]:
    batch: list[Fetched] = []
    for item in meta:
        if item.size is None or item.size > max_bytes:
            yield from _bodies(client, batch)
            batch = []
            yield replace(item, skip_reason=VANISHED if item.size is None else TOO_LARGE)
            continue
        if batch and (
            len(batch) >= BODY_BATCH_COUNT
            or sum(b.size or 0 for b in batch) + item.size > BODY_BATCH_BYTES
        ):
            yield from _bodies(client, batch)
            batch = []
        batch.append(item)
    yield from _bodies(client, batch)


def _bodies(client: IMAPClient, batch: list[Fetched]) -> Iterator[Fetched]:
    """Fetch a few bodies in one round trip, without setting ``\\Seen``."""
    if not batch:
        return
    found = client.fetch([item.uid for item in batch], ["BODY.PEEK[]"])
    for item in batch:
        raw = found.get(item.uid, {}).get(b"BODY[]")
        yield replace(item, raw=raw) if raw is not None else replace(item, skip_reason=VANISHED)


def envelope_of(raw: bytes, mailbox: Mailbox) -> Envelope:
    """The envelope the delivering server recorded, read back from its trace headers.

    ``Return-Path: <>`` is a null sender (a bounce), as over SMTP; with no Return-Path at
    all the From address stands in, so ordinary mail is not mistaken for a bounce.
    """
    headers = BytesHeaderParser().parsebytes(raw, headersonly=True)
    return_path = headers.get("Return-Path")
    source = return_path if return_path is not None else headers.get("From", "")
    sender = parseaddr(str(source))[1] or None
    delivered = headers.get_all("Delivered-To") or headers.get_all("X-Original-To") or []
    recipients = tuple(addr for _, addr in getaddresses([str(v) for v in delivered]) if addr)
    return Envelope(sender, recipients or (mailbox.address,))
