"""``002_…`` voicemail endpoints: list filters, detail shape, audio stream with Range, PATCH."""

from __future__ import annotations

import pytest

from pipeline.voicemail_audio import transcode_voicemail
from tests.helpers import accept, make_org, run_pipeline
from tests.voicemails import decode_mp3, voicemail_mail

SECOND_BODY = "Nouveau message en provenance de +33145678901 sur votre ligne 33299887766.\n"


def make_voicemail(pool, conn, mailbox, settings, raw, transcode=True) -> int:
    message_id = accept(pool, raw, mailbox)
    run_pipeline(pool, message_id)
    voicemail_id = conn.execute(
        "SELECT id FROM voicemails WHERE message_id = %s", (message_id,)
    ).fetchone()["id"]
    if transcode:
        transcode_voicemail(pool, voicemail_id, settings)
    return voicemail_id


@pytest.fixture
def gsm_voicemail(pool, conn, mailbox, settings):
    return make_voicemail(pool, conn, mailbox, settings, voicemail_mail())


@pytest.fixture
def two_voicemails(pool, conn, mailbox, settings, gsm_voicemail):
    second = make_voicemail(
        pool,
        conn,
        mailbox,
        settings,
        voicemail_mail("voicemail-pcm-8khz.wav", body=SECOND_BODY, message_id="<vm-2@tel.fr>"),
    )
    conn.execute(
        "UPDATE voicemails SET received_at = '2024-01-15T10:30:00Z', is_listened = true "
        "WHERE id = %s",
        (second,),
    )
    return gsm_voicemail, second


def ids(response):
    assert response.status_code == 200, response.json
    return [v["id"] for v in response.json["data"]]


def test_voicemail_detail_has_the_documented_shape(client, org, gsm_voicemail, mailbox):
    data = client.get(f"/api/voicemails/{gsm_voicemail}", headers=org.headers).json["data"]
    assert data["caller_number"] == "+33606473979"
    assert data["caller_formatted"] == "06 06 47 39 79"
    assert data["receiver_line"] == "33257578980"
    assert data["duration_seconds"] == 7
    assert data["duration_formatted"] == "0:07"
    assert data["has_audio"] is True and data["is_listened"] is False
    assert data["listened_at"] is None and data["notes"] is None
    assert data["account_id"] == mailbox.id
    assert data["audio"] == {
        "attachment_id": data["attachment_id"],
        "filename": "voicemail-gsm-8khz.wav",
        "mime_type": "audio/wav",
        "file_size": 11436,
    }
    assert set(data) >= {"id", "email_id", "received_at", "created_at", "updated_at"}


def test_voicemail_list_filters_sorts_and_paginates(client, org, two_voicemails, mailbox):
    recent, old = two_voicemails
    get = lambda query: ids(client.get(f"/api/voicemails?{query}", headers=org.headers))  # noqa: E731
    assert get("") == [recent, old]
    assert get("order=asc") == [old, recent]
    assert get("caller=0606 47") == [recent]
    assert get("caller=%2B33145") == [old]
    assert get("receiver=998877") == [old]
    assert get("is_listened=1") == [old]
    assert get("is_listened=0") == [recent]
    assert get(f"account_id={mailbox.id}") == [recent, old]
    assert get("account_id=999999") == []
    assert get("since=2024-01-15&until=2024-01-15") == [old]
    assert get("until=2024-01-14") == []
    assert get("sort=duration_seconds&order=asc") == [old, recent]
    assert get("sort=caller_number&order=desc") == [recent, old]
    page = client.get("/api/voicemails?per_page=1&page=2", headers=org.headers).json
    assert [v["id"] for v in page["data"]] == [old]
    assert page["pagination"] == {"page": 2, "per_page": 1, "total": 2, "total_pages": 2}


@pytest.mark.parametrize(
    ("query", "field"),
    [("per_page=101", "per_page"), ("sort=size", "sort"), ("since=yesterday", "since")],
)
def test_bad_list_parameters_are_a_422_naming_the_field(client, org, query, field):
    response = client.get(f"/api/voicemails?{query}", headers=org.headers)
    assert response.status_code == 422
    assert response.json["success"] is False and response.json["field"] == field


def test_audio_streams_a_playable_mp3_and_marks_the_voicemail_listened(client, org, gsm_voicemail):
    response = client.get(f"/api/voicemails/{gsm_voicemail}/audio", headers=org.headers)
    assert response.status_code == 200
    assert response.mimetype == "audio/mpeg"
    assert response.headers["Content-Length"] == str(len(response.data))
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    decoded = decode_mp3(response.data)
    assert 6900 <= len(decoded) <= 7200 and decoded.rms > 100
    data = client.get(f"/api/voicemails/{gsm_voicemail}", headers=org.headers).json["data"]
    assert data["is_listened"] is True and data["listened_at"] is not None


def test_audio_answers_range_requests_for_seeking(client, org, gsm_voicemail):
    url = f"/api/voicemails/{gsm_voicemail}/audio"
    full = client.get(url, headers=org.headers).data
    size = len(full)

    first = client.get(url, headers={**org.headers, "Range": "bytes=0-99"})
    assert first.status_code == 206
    assert first.headers["Content-Range"] == f"bytes 0-99/{size}"
    assert first.headers["Content-Length"] == "100"
    assert first.data == full[:100]

    rest = client.get(url, headers={**org.headers, "Range": "bytes=100-"})
    assert rest.status_code == 206 and rest.data == full[100:]
    tail = client.get(url, headers={**org.headers, "Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.data == full[-50:]

    beyond = client.get(url, headers={**org.headers, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"


def test_a_range_request_marks_the_voicemail_listened(client, org, gsm_voicemail):
    client.get(
        f"/api/voicemails/{gsm_voicemail}/audio", headers={**org.headers, "Range": "bytes=0-9"}
    )
    data = client.get(f"/api/voicemails/{gsm_voicemail}", headers=org.headers).json["data"]
    assert data["is_listened"] is True


def test_audio_of_a_corrupt_file_is_a_404_with_the_reason(
    client, org, pool, conn, mailbox, settings
):
    voicemail_id = make_voicemail(
        pool, conn, mailbox, settings, voicemail_mail("voicemail-corrupt.wav")
    )
    response = client.get(f"/api/voicemails/{voicemail_id}/audio", headers=org.headers)
    assert response.status_code == 404
    assert "cannot decode" in response.json["error"]
    data = client.get(f"/api/voicemails/{voicemail_id}", headers=org.headers).json["data"]
    assert data["has_audio"] is False and data["is_listened"] is False
    assert "cannot decode" in data["audio_error"]


def test_audio_still_being_converted_is_a_409_with_retry_after(
    client, org, pool, conn, mailbox, settings
):
    voicemail_id = make_voicemail(pool, conn, mailbox, settings, voicemail_mail(), transcode=False)
    response = client.get(f"/api/voicemails/{voicemail_id}/audio", headers=org.headers)
    assert response.status_code == 409
    assert response.headers["Retry-After"] == "5"


def test_patch_sets_and_clears_listened_and_notes(client, org, gsm_voicemail):
    url = f"/api/voicemails/{gsm_voicemail}"
    data = client.patch(
        url, json={"is_listened": True, "notes": "Rappeler demain"}, headers=org.headers
    ).json["data"]
    assert data["is_listened"] is True and data["listened_at"] is not None
    assert data["notes"] == "Rappeler demain"
    data = client.patch(url, json={"is_listened": False}, headers=org.headers).json["data"]
    assert data["is_listened"] is False and data["listened_at"] is None
    assert data["notes"] == "Rappeler demain"
    data = client.patch(url, json={"notes": None}, headers=org.headers).json["data"]
    assert data["notes"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [({"is_listened": None}, "is_listened"), ({"is_listened": "maybe"}, "is_listened")],
)
def test_patch_with_a_bad_value_is_a_422_naming_the_field(client, org, gsm_voicemail, body, field):
    response = client.patch(f"/api/voicemails/{gsm_voicemail}", json=body, headers=org.headers)
    assert response.status_code == 422 and response.json["field"] == field


def test_patch_needs_the_write_scope(client, conn, org, gsm_voicemail):
    reader = make_org(conn, "Readers", scopes=("read",))
    conn.execute("UPDATE api_keys SET org_id = %s WHERE org_id = %s", (org.org_id, reader.org_id))
    response = client.patch(
        f"/api/voicemails/{gsm_voicemail}", json={"notes": "x"}, headers=reader.headers
    )
    assert response.status_code == 403


def test_another_organization_never_sees_the_voicemail(client, conn, gsm_voicemail):
    other = make_org(conn, "Other")
    for path in ("", "/audio"):
        response = client.get(f"/api/voicemails/{gsm_voicemail}{path}", headers=other.headers)
        assert response.status_code == 404
    assert client.get("/api/voicemails", headers=other.headers).json["data"] == []
    response = client.patch(
        f"/api/voicemails/{gsm_voicemail}", json={"notes": "x"}, headers=other.headers
    )
    assert response.status_code == 404


def test_an_organization_adds_its_own_format_through_the_api(
    client, org, pool, conn, mailbox, settings
):
    created = client.post(
        "/api/voicemails/patterns",
        json={
            "name": "our-pbx",
            "subject_regex": r"^Voicemail from (?P<caller>[\d ]+) for line (?P<receiver>\d+)$",
        },
        headers=org.headers,
    )
    assert created.status_code == 201
    raw = voicemail_mail(subject="Voicemail from 06 12 34 56 78 for line 2001", body="Listen.")
    voicemail_id = make_voicemail(pool, conn, mailbox, settings, raw, transcode=False)
    data = client.get(f"/api/voicemails/{voicemail_id}", headers=org.headers).json["data"]
    assert (data["caller_number"], data["receiver_line"]) == ("+33612345678", "2001")

    listed = client.get("/api/voicemails/patterns", headers=org.headers).json["data"]
    assert [p["name"] for p in listed["patterns"]] == ["our-pbx"]
    assert "french-telephony" in {p["name"] for p in listed["built_in"]}
    url = f"/api/voicemails/patterns/{created.json['data']['id']}"
    assert client.delete(url, headers=org.headers).status_code == 200
    assert client.delete(url, headers=org.headers).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "body_regex": "(unclosed"}, "body_regex"),
        ({"name": "x", "subject_regex": "(?P<who>\\d+)"}, "subject_regex"),
        ({"name": "x"}, None),
    ],
)
def test_a_broken_pattern_is_refused(client, org, body, field):
    response = client.post("/api/voicemails/patterns", json=body, headers=org.headers)
    assert response.status_code == 422
    assert response.json.get("field") == field
