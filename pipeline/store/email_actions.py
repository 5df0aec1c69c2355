"""Changes clients make to emails: flags, bulk actions and permanent deletion (their
categories are set through ``store.categories``)."""

from __future__ import annotations

from uuid import UUID

from pipeline import blobs
from pipeline.db import Connection

FLAG_UPDATES = {
    "mark_read": "is_read = true, read_at = COALESCE(read_at, now())",
    "mark_unread": "is_read = false, read_at = NULL",
    "star": "is_starred = true",
    "unstar": "is_starred = false",
    "archive": "is_archived = true",
    "unarchive": "is_archived = false",
}


def set_flags(
    conn: Connection,
    org_id: UUID,
    message_ids: list[int],
    action: str,
) -> list[int]:
    """Apply a flag action (a key of ``FLAG_UPDATES``); return the ids that exist."""
    rows = conn.execute(
        f"""UPDATE messages SET {FLAG_UPDATES[action]}
            WHERE org_id = %s AND id = ANY(%s) RETURNING id""",
        (org_id, message_ids),
    ).fetchall()
    return sorted(r["id"] for r in rows)


def delete(conn: Connection, org_id: UUID, message_ids: list[int]) -> list[int]:
    """Permanently delete messages and their attachments; return the ids that existed.

    The ``002_…`` document promises the attachments go with the email, so those already
    shown on a ticket go too (their rows cascade with the message). What stays: the ticket
    and its messages, which hold their own copy of the text (their link to the email is
    cleared), and blobs that another mail, attachment, voicemail or sent mail still uses.
    """
    digests = _blobs_of(conn, org_id, message_ids)
    rows = conn.execute(
        "DELETE FROM messages WHERE org_id = %s AND id = ANY(%s) RETURNING id",
        (org_id, message_ids),
    ).fetchall()
    if digests:
        blobs.delete_unreferenced(conn, digests)
    return sorted(r["id"] for r in rows)


def _blobs_of(conn: Connection, org_id: UUID, message_ids: list[int]) -> list[str]:
    rows = conn.execute(
        """SELECT raw_sha256 AS digest FROM messages WHERE org_id = %(org)s AND id = ANY(%(ids)s)
           UNION SELECT blob_sha256 FROM attachments
                  WHERE org_id = %(org)s AND message_id = ANY(%(ids)s)
           UNION SELECT mp3_sha256 FROM voicemails
                  WHERE org_id = %(org)s AND message_id = ANY(%(ids)s) AND mp3_sha256 IS NOT NULL""",
        {"org": org_id, "ids": message_ids},
    ).fetchall()
    return [r["digest"] for r in rows]
