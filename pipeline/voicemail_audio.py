"""After detection: turn a voicemail's audio into a stored MP3, then raise ``voicemail.received``.

This runs in its own actor on the ``media`` queue, so a long or slow file never holds up
other mail. ffmpeg runs outside any transaction; the result is written in a short one.
Audio that cannot be decoded is an outcome, not a failure: the voicemail keeps
``has_audio = false`` with the reason, and the event is raised all the same.
"""

from __future__ import annotations

import logging
from uuid import UUID

from psycopg_pool import ConnectionPool

from config import Settings
from pipeline import audio, event_payloads, events
from pipeline.db import Connection
from pipeline.jobs import Job
from pipeline.store import blobs, voicemails

log = logging.getLogger(__name__)

TRANSCODE_ACTOR = "transcode_voicemail"
EVENT = "voicemail.received"


def transcode_job(voicemail_id: int) -> Job:
    return Job(TRANSCODE_ACTOR, (voicemail_id,))


def transcode_voicemail(
    pool: ConnectionPool, voicemail_id: int, settings: Settings
) -> tuple[Job, ...]:
    """Transcode and store the voicemail's audio once; return the event's delivery jobs."""
    with pool.connection() as conn, conn.transaction():
        source = voicemails.audio_source(conn, voicemail_id)
        if source is None or source["mp3_sha256"] or source["audio_error"]:
            return ()  # gone, or done by an earlier run
        data = blobs.get(conn, source["blob_sha256"]) if source["blob_sha256"] else None
    outcome = _transcode(data, settings, voicemail_id)
    with pool.connection() as conn, conn.transaction():
        if isinstance(outcome, audio.Transcoded):
            digest = blobs.put(conn, outcome.mp3)
            voicemails.record_audio(conn, voicemail_id, digest, outcome.duration_seconds)
        else:
            voicemails.record_audio_error(conn, voicemail_id, outcome)
        return raise_received(conn, source["org_id"], voicemail_id)


def give_up(pool: ConnectionPool, voicemail_id: int, reason: str) -> tuple[Job, ...]:
    """Record that transcoding failed for good (``reason``) and raise the event all the same."""
    with pool.connection() as conn, conn.transaction():
        source = voicemails.audio_source(conn, voicemail_id)
        if source is None or source["mp3_sha256"] or source["audio_error"]:
            return ()
        voicemails.record_audio_error(conn, voicemail_id, reason)
        return raise_received(conn, source["org_id"], voicemail_id)


def _transcode(data: bytes | None, settings: Settings, voicemail_id: int) -> audio.Transcoded | str:
    """The MP3, or the reason there is none."""
    if data is None:
        return "the audio attachment is missing"
    try:
        return audio.transcode(data, settings.ffmpeg)
    except audio.AudioError as exc:
        log.info("voicemail %s has no usable audio: %s", voicemail_id, exc)
        return str(exc)


def raise_received(conn: Connection, org_id: UUID, voicemail_id: int) -> tuple[Job, ...]:
    """Raise ``voicemail.received`` for the voicemail (once, whatever calls it again)."""
    row = voicemails.get(conn, org_id, voicemail_id)
    return events.emit(
        conn, org_id, EVENT, f"{EVENT}:{voicemail_id}", event_payloads.voicemail_received(row)
    )
