"""The media actor: voicemail audio to MP3 on its own queue, away from the mail pipeline."""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.middleware import TimeLimitExceeded
from psycopg_pool import ConnectionPool

from config import Settings
from config.logging import bound
from pipeline.errors import PermanentError
from pipeline.queues import QUEUES
from pipeline.store import voicemails
from pipeline.voicemail_audio import TRANSCODE_ACTOR, give_up, transcode_voicemail
from workers import runtime
from workers.broker import broker
from workers.retries import is_last_attempt
from workers.stages import send_jobs

log = logging.getLogger(__name__)

# Undecodable audio is recorded, not raised, so retries only cover the database and
# ffmpeg failing to start; a time limit stops a pathological file from holding a thread.
# After the last retry the voicemail records the error instead of waiting forever.
MAX_RETRIES = 5
TIME_LIMIT_MS = 10 * 60 * 1000


@dramatiq.actor(
    actor_name=TRANSCODE_ACTOR,
    queue_name=QUEUES[TRANSCODE_ACTOR],
    broker=broker,
    max_retries=MAX_RETRIES,
    min_backoff=5_000,
    max_backoff=300_000,
    time_limit=TIME_LIMIT_MS,
    throws=(PermanentError,),
)
def transcode_voicemail_audio(voicemail_id: int) -> None:
    with bound(voicemail_id=voicemail_id):
        try:
            jobs = transcode_voicemail(runtime.pool(), voicemail_id, runtime.settings())
        except (Exception, TimeLimitExceeded) as exc:
            # Called directly, there is no retry to wait for: record the error at once.
            if not is_last_attempt(MAX_RETRIES, when_called_directly=True):
                raise
            reason = f"transcoding failed: {type(exc).__name__}: {exc}"
            log.error("giving up on voicemail audio: %s", reason)
            jobs = give_up(runtime.pool(), voicemail_id, reason)
        send_jobs(jobs)


def requeue_lost_audio(pool: ConnectionPool, settings: Settings) -> int:
    """Enqueue again the voicemails whose transcoding job was lost; return how many.

    A crash between the voicemail stage's commit and its enqueue would otherwise leave a
    voicemail waiting for audio forever. Waiting three sweep periods leaves a busy media
    queue time to catch up before a second job is sent.
    """
    with pool.connection() as conn, conn.transaction():
        lost = voicemails.claim_awaiting_audio(conn, 3 * settings.sweep_after_seconds)
    for voicemail_id in lost:
        transcode_voicemail_audio.send(voicemail_id)
    if lost:
        log.info("re-enqueued transcoding of %d voicemails", len(lost))
    return len(lost)
