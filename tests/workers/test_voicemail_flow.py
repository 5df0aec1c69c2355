"""End to end: a telephony mail over real SMTP becomes a voicemail with playable audio."""

from __future__ import annotations

import smtplib

from tests.helpers import wait_for
from tests.voicemails import decode_mp3, voicemail_mail


def test_voicemail_mail_over_smtp_is_transcoded_by_the_media_worker_and_plays_through_the_api(
    smtp_server, worker, conn, org, mailbox, client
):
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("messagerie@telephonie.example.fr", ["support@example.com"], voicemail_mail())

    voicemail = wait_for(
        lambda: conn.execute("SELECT * FROM voicemails WHERE has_audio").fetchone(), timeout=30
    )
    assert voicemail["caller_formatted"] == "06 06 47 39 79"
    assert voicemail["receiver_line"] == "33257578980"
    assert voicemail["duration_seconds"] == 7
    message = conn.execute(
        "SELECT state, ticket_id FROM messages WHERE id = %s", (voicemail["message_id"],)
    ).fetchone()
    assert message["state"] == "done" and message["ticket_id"] is not None
    events = conn.execute("SELECT type FROM webhook_events").fetchall()
    assert [e["type"] for e in events].count("voicemail.received") == 1

    detail = client.get(f"/api/voicemails/{voicemail['id']}", headers=org.headers).json["data"]
    assert detail["duration_formatted"] == "0:07" and detail["has_audio"] is True
    audio = client.get(f"/api/voicemails/{voicemail['id']}/audio", headers=org.headers)
    assert audio.status_code == 200 and audio.mimetype == "audio/mpeg"
    decoded = decode_mp3(audio.data)
    assert round(len(decoded) / 1000) == 7
