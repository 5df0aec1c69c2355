"""The mail of one mailbox as a whole: its statistics, and deleting it with the mailbox."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store import blobs, messages


def stats(conn: Connection, org_id: UUID, mailbox_id: int) -> dict[str, Any]:
    """Totals, unread, with attachments, per folder, newest and oldest (``002_…`` stats)."""
    totals = conn.execute(
        """SELECT count(*) AS total, count(*) FILTER (WHERE NOT is_read) AS unread,
                  count(*) FILTER (WHERE has_attachments) AS with_attachments,
                  max(received_at) AS latest, min(received_at) AS oldest
           FROM messages WHERE org_id = %s AND mailbox_id = %s""",
        (org_id, mailbox_id),
    ).fetchone()
    folders = conn.execute(
        """SELECT COALESCE(folder, 'INBOX') AS folder, count(*) AS count FROM messages
           WHERE org_id = %s AND mailbox_id = %s GROUP BY 1 ORDER BY 2 DESC, 1""",
        (org_id, mailbox_id),
    ).fetchall()
    return {**totals, "by_folder": folders}


def delete_mail(conn: Connection, org_id: UUID, mailbox_id: int) -> int:
    """Delete the mailbox's messages (attachments follow) and blobs nothing uses any more."""
    attached = conn.execute(
        """SELECT DISTINCT a.blob_sha256 FROM attachments a JOIN messages m ON m.id = a.message_id
           WHERE m.org_id = %s AND m.mailbox_id = %s""",
        (org_id, mailbox_id),
    ).fetchall()
    raw = messages.delete_of_mailbox(conn, org_id, mailbox_id)
    hashes = set(raw) | {r["blob_sha256"] for r in attached}
    blobs.delete_unreferenced(conn, sorted(hashes))
    return len(raw)
