"""Per-folder IMAP sync state: UIDVALIDITY, the last UID imported, errors and skips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.records import Mailbox


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int | None
    last_uid: int
    last_error: str | None


def load(conn: Connection, mailbox: Mailbox, folder: str) -> FolderState:
    """The folder's state, creating its row on first use."""
    conn.execute(
        """INSERT INTO mailbox_folders (mailbox_id, folder, org_id) VALUES (%s, %s, %s)
           ON CONFLICT (mailbox_id, folder) DO NOTHING""",
        (mailbox.id, folder, mailbox.org_id),
    )
    row = conn.execute(
        """SELECT uidvalidity, last_uid, last_error FROM mailbox_folders
           WHERE mailbox_id = %s AND folder = %s""",
        (mailbox.id, folder),
    ).fetchone()
    return FolderState(row["uidvalidity"], row["last_uid"], row["last_error"])


def restart(conn: Connection, mailbox_id: int, folder: str, uidvalidity: int) -> None:
    """A new UIDVALIDITY: every UID we knew is meaningless, so count from zero again."""
    conn.execute(
        """UPDATE mailbox_folders SET uidvalidity = %s, last_uid = 0
           WHERE mailbox_id = %s AND folder = %s""",
        (uidvalidity, mailbox_id, folder),
    )


def advance(conn: Connection, mailbox_id: int, folder: str, uid: int) -> None:
    """Move ``last_uid`` forward (never back: a resync re-reads older UIDs)."""
    conn.execute(
        """UPDATE mailbox_folders SET last_uid = GREATEST(last_uid, %s)
           WHERE mailbox_id = %s AND folder = %s""",
        (uid, mailbox_id, folder),
    )


def record_skip(
    conn: Connection,
    mailbox: Mailbox,
    folder: str,
    uidvalidity: int,
    uid: int,
    size: int | None,
    reason: str,
) -> None:
    conn.execute(
        """INSERT INTO imap_skipped (org_id, mailbox_id, folder, uidvalidity, uid, size, reason)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (mailbox_id, folder, uidvalidity, uid) DO NOTHING""",
        (mailbox.org_id, mailbox.id, folder, uidvalidity, uid, size, reason),
    )


def mark_synced(conn: Connection, mailbox_id: int, folder: str) -> None:
    conn.execute(
        """UPDATE mailbox_folders SET last_synced_at = now(), last_error = NULL
           WHERE mailbox_id = %s AND folder = %s""",
        (mailbox_id, folder),
    )


def mark_failed(conn: Connection, mailbox: Mailbox, folder: str, error: str) -> str | None:
    """Record ``error`` on the folder; return the error it had before."""
    previous = load(conn, mailbox, folder).last_error
    conn.execute(
        "UPDATE mailbox_folders SET last_error = %s WHERE mailbox_id = %s AND folder = %s",
        (error, mailbox.id, folder),
    )
    return previous


def states(conn: Connection, org_id: UUID, mailbox_id: int) -> list[dict[str, Any]]:
    """Every folder's sync state with its count of skipped messages, for the stats endpoint."""
    return conn.execute(
        """SELECT f.folder, f.uidvalidity, f.last_uid, f.last_synced_at, f.last_error,
                  (SELECT count(*) FROM imap_skipped s WHERE s.mailbox_id = f.mailbox_id
                     AND s.folder = f.folder) AS skipped
           FROM mailbox_folders f WHERE f.org_id = %s AND f.mailbox_id = %s
           ORDER BY f.folder""",
        (org_id, mailbox_id),
    ).fetchall()
