"""SQL for ``voicemails`` (always scoped to one organization; the formats that detect them
are ``store.voicemail_patterns``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.records import Message

AUDIO_EXTENSIONS = (".wav", ".mp3", ".gsm")

COLUMNS = """v.id, v.org_id, v.message_id, v.mailbox_id, v.caller_number, v.caller_formatted,
    v.receiver_line, v.duration_seconds, v.attachment_id, v.mp3_sha256, v.has_audio,
    v.audio_error, v.is_listened, v.listened_at, v.notes, v.received_at, v.created_at,
    v.updated_at, a.filename AS audio_filename, a.mime_type AS audio_mime_type,
    a.size AS audio_size"""
FROM = "voicemails v LEFT JOIN attachments a ON a.id = v.attachment_id"


def audio_attachment(conn: Connection, org_id: UUID, message_id: int) -> int | None:
    """The id of the message's first audio attachment (by type or file name), if any."""
    row = conn.execute(
        """SELECT id FROM attachments
           WHERE org_id = %s AND message_id = %s
             AND (mime_type LIKE 'audio/%%' OR lower(filename) LIKE ANY(%s))
           ORDER BY position LIMIT 1""",
        (org_id, message_id, [f"%{ext}" for ext in AUDIO_EXTENSIONS]),
    ).fetchone()
    return row["id"] if row else None


def create(
    conn: Connection, msg: Message, values: dict[str, Any], attachment_id: int | None
) -> int | None:
    """Insert the message's voicemail; ``None`` if it already has one (the stage ran before)."""
    row = conn.execute(
        """INSERT INTO voicemails (org_id, message_id, mailbox_id, caller_number,
                                   caller_formatted, receiver_line, attachment_id, received_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (message_id) DO NOTHING RETURNING id""",
        (
            msg.org_id,
            msg.id,
            msg.mailbox_id,
            values.get("caller_number"),
            values.get("caller_formatted"),
            values.get("receiver_line"),
            attachment_id,
            msg.received_at,
        ),
    ).fetchone()
    return row["id"] if row else None


def id_for_message(conn: Connection, message_id: int) -> int | None:
    row = conn.execute("SELECT id FROM voicemails WHERE message_id = %s", (message_id,)).fetchone()
    return row["id"] if row else None


def audio_source(conn: Connection, voicemail_id: int) -> dict[str, Any] | None:
    """What the transcoder needs: the voicemail's state and its attachment's blob."""
    return conn.execute(
        """SELECT v.id, v.org_id, v.mp3_sha256, v.audio_error, a.blob_sha256
           FROM voicemails v LEFT JOIN attachments a ON a.id = v.attachment_id
           WHERE v.id = %s""",
        (voicemail_id,),
    ).fetchone()


def record_audio(conn: Connection, voicemail_id: int, mp3_sha256: str, duration: int) -> None:
    conn.execute(
        """UPDATE voicemails SET mp3_sha256 = %s, duration_seconds = %s, has_audio = true,
                  audio_error = NULL, updated_at = now()
           WHERE id = %s""",
        (mp3_sha256, duration, voicemail_id),
    )


def record_audio_error(conn: Connection, voicemail_id: int, error: str) -> None:
    conn.execute(
        """UPDATE voicemails SET has_audio = false, audio_error = %s, updated_at = now()
           WHERE id = %s""",
        (error[:1000], voicemail_id),
    )


def claim_awaiting_audio(conn: Connection, older_than_seconds: int, limit: int = 200) -> list[int]:
    """Voicemails whose transcoding job looks lost (neither audio nor error after a while).

    Their ``updated_at`` is touched, so the next sweep leaves them alone for as long again.
    """
    rows = conn.execute(
        """UPDATE voicemails SET updated_at = now() WHERE id IN (
               SELECT id FROM voicemails
               WHERE mp3_sha256 IS NULL AND audio_error IS NULL AND attachment_id IS NOT NULL
                 AND COALESCE(updated_at, created_at) < now() - make_interval(secs => %s)
               ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
           RETURNING id""",
        (older_than_seconds, limit),
    ).fetchall()
    return sorted(row["id"] for row in rows)


def get(conn: Connection, org_id: UUID, voicemail_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM {FROM} WHERE v.org_id = %s AND v.id = %s",
        (org_id, voicemail_id),
    ).fetchone()


def update(conn: Connection, org_id: UUID, voicemail_id: int, values: dict[str, Any]) -> bool:
    """Set ``is_listened`` (stamping or clearing ``listened_at``) and/or ``notes``."""
    if not values:
        return get(conn, org_id, voicemail_id) is not None
    sets = ["updated_at = now()"]
    params: dict[str, Any] = {"org": org_id, "id": voicemail_id}
    if "is_listened" in values:
        sets.append(
            "is_listened = %(listened)s, listened_at = CASE WHEN %(listened)s "
            "THEN COALESCE(listened_at, now()) END"
        )
        params["listened"] = values["is_listened"]
    if "notes" in values:
        sets.append("notes = %(notes)s")
        params["notes"] = values["notes"]
    cur = conn.execute(
        f"UPDATE voicemails SET {', '.join(sets)} WHERE org_id = %(org)s AND id = %(id)s", params
    )
    return cur.rowcount == 1


def mark_listened(conn: Connection, org_id: UUID, voicemail_id: int) -> None:
    conn.execute(
        """UPDATE voicemails SET is_listened = true, listened_at = now(), updated_at = now()
           WHERE org_id = %s AND id = %s AND NOT is_listened""",
        (org_id, voicemail_id),
    )
