"""The voicemail stage and the transcoder it hands the audio to."""

from __future__ import annotations

import pytest

from pipeline.context import StageContext
from pipeline.store import blobs
from pipeline.voicemail_audio import TRANSCODE_ACTOR, transcode_voicemail
from tests.helpers import accept, mfs, run_pipeline
from tests.voicemails import decode_mp3, voicemail_mail


def voicemail_of(conn, message_id):
    return conn.execute("SELECT * FROM voicemails WHERE message_id = %s", (message_id,)).fetchone()


def events_of(conn, voicemail_id):
    return conn.execute(
        "SELECT payload FROM webhook_events WHERE type = 'voicemail.received' AND dedupe_key = %s",
        (f"voicemail.received:{voicemail_id}",),
    ).fetchall()


def receive(pool, mailbox, raw):
    message_id = accept(pool, raw, mailbox)
    run_pipeline(pool, message_id)
    return message_id


def test_french_notification_with_gsm_wav_becomes_a_voicemail_with_caller_line_and_duration(
    pool, conn, mailbox, settings
):
    message_id = receive(pool, mailbox, voicemail_mail("voicemail-gsm-8khz.wav"))
    voicemail = voicemail_of(conn, message_id)
    assert voicemail["caller_number"] == "+33606473979"
    assert voicemail["caller_formatted"] == "06 06 47 39 79"
    assert voicemail["receiver_line"] == "33257578980"
    assert voicemail["has_audio"] is False and voicemail["audio_error"] is None  # not yet

    transcode_voicemail(pool, voicemail["id"], settings)

    voicemail = voicemail_of(conn, message_id)
    assert voicemail["has_audio"] is True
    assert voicemail["duration_seconds"] == 7
    mp3 = blobs.get(conn, voicemail["mp3_sha256"])
    decoded = decode_mp3(mp3)
    assert 6900 <= len(decoded) <= 7200
    assert decoded.rms > 100  # sound, not silence


def test_the_stage_hands_transcoding_to_the_media_actor_and_the_mail_goes_on_to_a_ticket(
    pool, conn, mailbox, settings
):
    from pipeline import stages
    from pipeline.runner import run_stage

    message_id = accept(pool, voicemail_mail(), mailbox)
    for stage in stages.ORDER[: stages.ORDER.index("voicemail")]:
        result = run_stage(pool, stage, message_id, StageContext(settings))
    assert result.next_stage == "voicemail"
    result = run_stage(pool, "voicemail", message_id, StageContext(settings))
    voicemail_id = voicemail_of(conn, message_id)["id"]
    assert [(job.actor, job.args) for job in result.jobs] == [(TRANSCODE_ACTOR, (voicemail_id,))]
    assert result.next_stage == stages.next_stage("voicemail")
    run_pipeline(pool, message_id)
    row = conn.execute(
        "SELECT state, ticket_id, analysis FROM messages WHERE id = %s", (message_id,)
    ).fetchone()
    assert row["state"] == "done" and row["ticket_id"] is not None
    assert row["analysis"]["voicemail"] == {
        "detected": True,
        "pattern": "french-telephony",
        "voicemail_id": voicemail_id,
    }


def test_running_the_stage_twice_creates_one_voicemail_and_one_transcoding_job(
    pool, conn, mailbox, settings
):
    from pipeline.stages import voicemail
    from pipeline.store import messages

    message_id = accept(pool, voicemail_mail(), mailbox)
    run_pipeline(pool, message_id)
    with pool.connection() as c, c.transaction():
        msg = messages.get(c, mailbox.org_id, message_id)
        again = voicemail.run(c, msg, StageContext(settings))
    assert again.jobs == ()
    assert again.evidence["voicemail_id"] == voicemail_of(conn, message_id)["id"]
    assert conn.execute("SELECT count(*) AS n FROM voicemails").fetchone()["n"] == 1


def test_transcoding_twice_stores_one_mp3_and_raises_the_event_once(pool, conn, mailbox, settings):
    conn.execute(
        "INSERT INTO webhooks (org_id, url, events) VALUES (%s, 'https://hooks.example/x', %s)",
        (mailbox.org_id, ["voicemail.received"]),
    )
    voicemail_id = voicemail_of(conn, receive(pool, mailbox, voicemail_mail()))["id"]
    first = transcode_voicemail(pool, voicemail_id, settings)
    second = transcode_voicemail(pool, voicemail_id, settings)
    assert len(first) == 1 and second == ()
    [event] = events_of(conn, voicemail_id)
    assert event["payload"]["caller_number"] == "+33606473979"
    assert event["payload"]["duration_seconds"] == 7
    assert event["payload"]["has_audio"] is True
    assert conn.execute("SELECT count(*) AS n FROM webhook_deliveries").fetchone()["n"] == 1


@pytest.mark.parametrize(
    ("audio_name", "seconds"), [("voicemail-pcm-8khz.wav", 2), ("voicemail-8khz.mp3", 3)]
)
def test_plain_pcm_wav_and_mp3_are_transcoded_too(
    pool, conn, mailbox, settings, audio_name, seconds
):
    voicemail_id = voicemail_of(conn, receive(pool, mailbox, voicemail_mail(audio_name)))["id"]
    transcode_voicemail(pool, voicemail_id, settings)
    row = conn.execute("SELECT * FROM voicemails WHERE id = %s", (voicemail_id,)).fetchone()
    assert row["has_audio"] is True and row["duration_seconds"] == seconds
    assert blobs.get(conn, row["mp3_sha256"])[:3] == b"ID3"


def test_corrupt_audio_gives_a_voicemail_without_audio_and_the_reason(
    pool, conn, mailbox, settings
):
    message_id = receive(pool, mailbox, voicemail_mail("voicemail-corrupt.wav"))
    voicemail_id = voicemail_of(conn, message_id)["id"]
    transcode_voicemail(pool, voicemail_id, settings)  # does not raise: nothing to retry
    row = voicemail_of(conn, message_id)
    assert row["has_audio"] is False and row["mp3_sha256"] is None
    assert "cannot decode wav/gsm_ms" in row["audio_error"]
    assert row["caller_number"] == "+33606473979"
    [event] = events_of(conn, voicemail_id)
    assert event["payload"]["has_audio"] is False
    assert transcode_voicemail(pool, voicemail_id, settings) == ()


def test_a_notification_without_audio_is_a_voicemail_without_audio_raised_at_once(
    pool, conn, mailbox
):
    message_id = receive(pool, mailbox, voicemail_mail(None))
    row = voicemail_of(conn, message_id)
    assert row["has_audio"] is False
    assert row["audio_error"] == "the mail has no audio attachment"
    assert len(events_of(conn, row["id"])) == 1


def test_ordinary_mail_is_not_a_voicemail(pool, conn, mailbox):
    message_id = receive(
        pool,
        mailbox,
        mfs("""
            From: alice@example.org
            To: support@example.com
            Subject: Call me back on +33606473979
            Message-ID: <ordinary@example.org>

            My line is down.
        """),
    )
    assert voicemail_of(conn, message_id) is None
    analysis = conn.execute("SELECT analysis FROM messages WHERE id = %s", (message_id,))
    assert analysis.fetchone()["analysis"]["voicemail"] == {"detected": False}


def test_an_organization_pattern_with_named_groups_is_tried_before_the_built_ins(
    pool, conn, mailbox
):
    conn.execute(
        """INSERT INTO voicemail_patterns (org_id, name, sender_regex, subject_regex, body_regex)
           VALUES (%s, 'our-pbx', '@pbx\\.example\\.com$', '^Voicemail (?P<caller>[\\d ]+)$',
                   'line (?P<receiver>\\d+)')""",
        (mailbox.org_id,),
    )
    body = (
        "Left on line 2001.\n" + "Nouveau message en provenance de +33606473979 sur votre ligne 1"
    )
    raw = voicemail_mail(
        subject="Voicemail 06 12 34 56 78", body=body, sender="box@pbx.example.com"
    )
    row = voicemail_of(conn, receive(pool, mailbox, raw))
    assert row["caller_number"] == "+33612345678"
    assert row["caller_formatted"] == "06 12 34 56 78"
    assert row["receiver_line"] == "2001"


def test_the_organization_phone_region_reads_national_numbers(pool, conn, mailbox):
    conn.execute(
        """UPDATE organizations SET settings = '{"phone_region": "US"}' WHERE id = %s""",
        (mailbox.org_id,),
    )
    raw = voicemail_mail(subject="New voicemail from (650) 555-1234 at 3:14 PM", body="Listen.")
    row = voicemail_of(conn, receive(pool, mailbox, raw))
    assert row["caller_number"] == "+16505551234"
    assert row["caller_formatted"] == "(650) 555-1234"


def test_a_lost_transcoding_job_is_sent_again_by_the_scheduler(pool, conn, mailbox, settings):
    from workers.media import requeue_lost_audio

    voicemail_id = voicemail_of(conn, receive(pool, mailbox, voicemail_mail()))["id"]
    assert requeue_lost_audio(pool, settings) == 0  # recent: its job may still be queued
    conn.execute(
        "UPDATE voicemails SET created_at = now() - interval '1 day' WHERE id = %s",
        (voicemail_id,),
    )
    assert requeue_lost_audio(pool, settings) == 1
    assert requeue_lost_audio(pool, settings) == 0  # touched: not again at once


def test_a_transcoder_that_keeps_failing_records_the_error_after_its_last_retry(
    pool, conn, mailbox, settings, monkeypatch
):
    from workers import media, runtime

    voicemail_id = voicemail_of(conn, receive(pool, mailbox, voicemail_mail()))["id"]
    broken = settings.with_overrides(ffmpeg="/nonexistent/ffmpeg")
    monkeypatch.setattr(runtime, "settings", lambda: broken)
    media.transcode_voicemail_audio.fn(voicemail_id)  # outside a worker: the last attempt
    row = conn.execute("SELECT * FROM voicemails WHERE id = %s", (voicemail_id,)).fetchone()
    assert row["has_audio"] is False
    assert row["audio_error"].startswith("transcoding failed: FileNotFoundError")
    assert len(events_of(conn, voicemail_id)) == 1
