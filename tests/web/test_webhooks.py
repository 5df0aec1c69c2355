"""``002_…`` webhooks API: CRUD, validation, the test delivery, scopes and tenancy."""

from __future__ import annotations

import json

import pytest

from tests.helpers import make_org


def create(client, org, **body):
    payload = {"url": "https://hooks.example.net/intake", "events": ["email.received"], **body}
    return client.post("/api/webhooks", json=payload, headers=org.headers)


def test_creating_a_webhook_shows_a_generated_secret_once_and_stores_it_encrypted(
    client, org, conn
):
    answer = create(client, org, events=["email.received", "ticket.created"])
    assert answer.status_code == 201
    data = answer.json["data"]
    assert data["secret"].startswith("whsec_")
    assert data["events"] == ["email.received", "ticket.created"]
    assert data["is_active"] is True and data["has_secret"] is True
    stored = conn.execute("SELECT secret_enc FROM webhooks").fetchone()["secret_enc"]
    assert data["secret"].encode() not in bytes(stored)

    again = client.get(f"/api/webhooks/{data['id']}", headers=org.headers).json["data"]
    assert "secret" not in again and "secret_enc" not in again
    given = create(client, org, secret="my-own-secret-123").json["data"]
    assert "secret" not in given


def test_the_list_shows_counters_and_the_supported_events(client, org):
    create(client, org)
    data = client.get("/api/webhooks", headers=org.headers).json["data"]
    [hook] = data["webhooks"]
    for counter in ("trigger_count", "success_count", "failure_count", "consecutive_failures"):
        assert hook[counter] == 0
    for stamp in ("last_triggered_at", "last_success_at", "last_failure_at"):
        assert hook[stamp] is None
    assert "secret" not in json.dumps(data["webhooks"]).replace("has_secret", "")
    assert {"email.received", "voicemail.received", "sync.failed", "ticket.created"} <= set(
        data["supported_events"]
    )
    assert "delivery.failed_permanent" in data["supported_events"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["email.exploded"]}, "events.0"),
        ({"events": []}, "events"),
        ({"url": "ftp://hooks.example.net/x"}, "url"),
        ({"url": ""}, "url"),
        ({"url": "https://hooks.example.net:99999/x"}, "url"),
        ({"url": "https:///no-host"}, "url"),
        ({"secret": "short"}, "secret"),
        ({"is_active": "maybe"}, "is_active"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, org, body, field):
    answer = create(client, org, **body)
    assert answer.status_code == 422
    assert answer.json["success"] is False
    assert answer.json["field"] == field


def test_plain_http_and_private_addresses_are_refused_unless_configured(
    app, client, org, settings, monkeypatch
):
    strict = settings.with_overrides(fetch_allow_private=False, webhook_allow_http=False)
    monkeypatch.setitem(app.config, "INTAKE_SETTINGS", strict)
    http = create(client, org, url="http://hooks.example.net/x")
    assert (http.status_code, http.json["field"]) == (422, "url")
    assert create(client, org, url="https://10.0.0.7/x").status_code == 422
    assert create(client, org, url="https://localhost/x").status_code == 422
    assert create(client, org).status_code == 201

    relaxed = strict.with_overrides(webhook_allow_http=True)
    monkeypatch.setitem(app.config, "INTAKE_SETTINGS", relaxed)
    assert create(client, org, url="http://hooks.example.net/x").status_code == 201


def test_update_changes_url_events_and_reactivation_clears_the_failure_state(client, org, conn):
    hook = create(client, org).json["data"]
    conn.execute(
        """UPDATE webhooks SET is_active = false, consecutive_failures = 9,
                  disabled_reason = 'disabled after 9 consecutive failures'"""
    )
    answer = client.put(
        f"/api/webhooks/{hook['id']}",
        json={"url": "https://other.example.net/in", "events": ["sync.failed"], "is_active": True},
        headers=org.headers,
    )
    data = answer.json["data"]
    assert answer.status_code == 200
    assert (data["url"], data["events"], data["is_active"]) == (
        "https://other.example.net/in",
        ["sync.failed"],
        True,
    )
    assert (data["consecutive_failures"], data["disabled_reason"]) == (0, None)
    bad = client.put(f"/api/webhooks/{hook['id']}", json={"events": ["x"]}, headers=org.headers)
    assert bad.status_code == 422


def test_delete_removes_the_subscription(client, org):
    hook = create(client, org).json["data"]
    assert client.delete(f"/api/webhooks/{hook['id']}", headers=org.headers).status_code == 200
    assert client.get(f"/api/webhooks/{hook['id']}", headers=org.headers).status_code == 404
    assert client.delete(f"/api/webhooks/{hook['id']}", headers=org.headers).status_code == 404


def test_the_test_endpoint_really_delivers_a_signed_event(client, org, conn, http_receiver):
    secret = "receiver-secret-42"
    http_receiver.secret = secret
    hook = create(client, org, url=http_receiver.url("/t"), secret=secret).json["data"]

    answer = client.post(f"/api/webhooks/{hook['id']}/test", headers=org.headers)

    assert answer.status_code == 200
    assert answer.json["data"] == {
        "message": "Test webhook delivered successfully",
        "delivered": True,
        "http_code": 200,
        "response": "OK",
    }
    [hit] = http_receiver.hits
    assert hit.path == "/t" and hit.signature_valid is True
    body = json.loads(hit.body)
    assert body["type"] == "webhook.test" and hit.headers["X-Intake-Event"] == "webhook.test"
    row = conn.execute("SELECT status, response_code FROM webhook_deliveries").fetchone()
    assert row == {"status": "success", "response_code": 200}
    counters = client.get(f"/api/webhooks/{hook['id']}", headers=org.headers).json["data"]
    assert counters["trigger_count"] == 0  # a test is not traffic


def test_the_test_endpoint_reports_a_failing_receiver(client, org, http_receiver):
    http_receiver.answer_next(500)
    hook = create(client, org, url=http_receiver.url()).json["data"]
    data = client.post(f"/api/webhooks/{hook['id']}/test", headers=org.headers).json["data"]
    assert data["delivered"] is False
    assert data["http_code"] == 500
    assert data["message"] == "Test webhook delivery failed: HTTP 500"
    assert data["response"] == "nope"


def test_reading_needs_read_and_changing_needs_write(client, conn):
    reader = make_org(conn, "Readers", scopes=("read",))
    assert client.get("/api/webhooks", headers=reader.headers).status_code == 200
    assert create(client, reader).status_code == 403
    assert client.get("/api/webhooks").status_code == 401


def test_another_organizations_webhooks_are_not_found(client, org, conn, http_receiver):
    other = make_org(conn, "Other")
    hook = create(client, other, url=http_receiver.url()).json["data"]
    base = f"/api/webhooks/{hook['id']}"
    assert client.get(base, headers=org.headers).status_code == 404
    assert client.put(base, json={"is_active": False}, headers=org.headers).status_code == 404
    assert client.post(f"{base}/test", headers=org.headers).status_code == 404
    assert client.delete(base, headers=org.headers).status_code == 404
    assert client.get("/api/webhooks", headers=org.headers).json["data"]["webhooks"] == []
    assert http_receiver.hits == []
    assert client.get(base, headers=other.headers).json["data"]["is_active"] is True


def test_the_webhook_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json["paths"]
    assert {"post", "get"} <= set(paths["/api/webhooks"])
    assert "/api/webhooks/{webhook_id}/test" in paths
