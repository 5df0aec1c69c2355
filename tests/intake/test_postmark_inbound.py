"""Postmark inbound JSON: basic auth, and malformed payloads refused naming the field."""

from __future__ import annotations

import pytest

from tests.intake import provider_payloads as pp
from tests.intake.test_provider_equivalence import sample_mail

RECIPIENT = "support@example.com"


@pytest.fixture
def endpoint(conn, mailbox):
    return pp.make_endpoint(conn, mailbox, "postmark", "pw")


def payload(**changes) -> dict:
    return pp.postmark(sample_mail(), RECIPIENT) | changes


def post(client, endpoint, body, password="pw"):
    headers = pp.basic_auth(password) if password else {}
    return client.post(endpoint.path, json=body, headers=headers)


def assert_refused(response, status: int, field: str | None, conn) -> None:
    assert response.status_code == status, response.json
    assert response.json["success"] is False
    assert response.json.get("field") == field
    assert pp.message_count(conn) == 0


@pytest.mark.parametrize("password", [None, "wrong"])
def test_a_missing_or_wrong_password_is_401(client, conn, endpoint, password):
    assert_refused(post(client, endpoint, payload(), password), 401, None, conn)


def test_a_body_that_is_not_json_is_400(client, conn, endpoint):
    response = client.post(
        endpoint.path,
        data="{not json",
        content_type="application/json",
        headers=pp.basic_auth("pw"),
    )
    assert_refused(response, 400, None, conn)


def test_a_json_array_is_422(client, conn, endpoint):
    assert_refused(post(client, endpoint, [payload()]), 422, None, conn)


@pytest.mark.parametrize("missing", ["MessageID", "FromFull"])
def test_a_missing_required_field_is_422(client, conn, endpoint, missing):
    body = payload()
    del body[missing]
    assert_refused(post(client, endpoint, body), 422, missing, conn)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ToFull": "support@example.com"}, "ToFull"),
        ({"Subject": 42}, "Subject"),
        ({"Headers": [{"Name": "X-Only-Name"}]}, "Headers.0.Value"),
        ({"Attachments": [{"Name": "a.txt", "Content": 12}]}, "Attachments.0.Content"),
    ],
)
def test_a_wrong_type_is_422_naming_the_field(client, conn, endpoint, changes, field):
    assert_refused(post(client, endpoint, payload(**changes)), 422, field, conn)


def test_attachment_content_that_is_not_base64_is_422(client, conn, endpoint):
    body = payload(Attachments=[{"Name": "a.txt", "ContentType": "text/plain", "Content": "@@@"}])
    assert_refused(post(client, endpoint, body), 422, "Attachments.0.Content", conn)


def test_an_attachment_without_content_is_422(client, conn, endpoint):
    body = payload(Attachments=[{"Name": "a.txt", "ContentType": "text/plain"}])
    assert_refused(post(client, endpoint, body), 422, "Attachments.0.Content", conn)


def test_a_payload_without_any_recipient_is_422(client, conn, endpoint):
    body = payload(ToFull=[], OriginalRecipient=None)
    assert_refused(post(client, endpoint, body), 422, "ToFull", conn)


def test_older_payloads_with_data_instead_of_content_are_accepted(client, pool, conn, endpoint):
    from tests.helpers import run_pipeline

    body = payload(Attachments=[{"Name": "a.txt", "ContentType": "text/plain", "Data": "aGk="}])
    response = post(client, endpoint, body)
    assert response.status_code == 200
    run_pipeline(pool, response.json["id"])
    blob = conn.execute(
        "SELECT b.data FROM attachments a JOIN blobs b ON b.sha256 = a.blob_sha256"
    ).fetchone()
    assert bytes(blob["data"]) == b"hi"


def test_a_message_over_the_size_limit_is_413(app, conn, endpoint):
    body = payload(RawEmail="x" * 3000, Attachments=[], HtmlBody="")
    with pp.overridden(app, max_message_bytes=2900) as small:
        response = small.post(endpoint.path, json=body, headers=pp.basic_auth("pw"))
    assert_refused(response, 413, "message", conn)


def test_a_stored_message_is_acknowledged_even_when_redis_is_away(
    app, client, conn, endpoint, settings, monkeypatch
):
    from pipeline.queues import JobQueue, client_broker
    from tests.conftest import free_port

    away = settings.with_overrides(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    monkeypatch.setitem(app.extensions, "intake_queue", JobQueue(client_broker(away)))
    response = post(client, endpoint, payload())
    assert response.status_code == 200, response.json
    row = conn.execute("SELECT handed_over_at FROM messages").fetchone()
    assert row["handed_over_at"] is not None  # recorded; the pick-up sees the queue lost it
