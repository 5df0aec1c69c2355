"""Permanent deletion of emails a client asks for, with the blobs nothing else uses (flags
are set through ``store.messages``, categories through ``store.categories``)."""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection
from pipeline.store import blobs, messages


def delete(conn: Connection, org_id: UUID, message_ids: list[int]) -> list[int]:
    """Permanently delete messages and their attachments; return the ids that existed.

    The ``002_…`` document promises the attachments go with the email, so those already
    shown on a ticket go too (their rows cascade with the message). What stays: the ticket
    and its messages, which hold their own copy of the text (their link to the email is
    cleared), and blobs that another mail, attachment, voicemail or sent mail still uses.
    """
    digests = _blobs_of(conn, org_id, message_ids)
    deleted = messages.delete_many(conn, org_id, message_ids)
    if digests:
        blobs.delete_unreferenced(conn, digests)
    return deleted


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
