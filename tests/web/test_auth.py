"""Authentication, scopes and per-key rate limits of the native API."""

from __future__ import annotations

import pytest

from config import load_settings
from pipeline.store import keys
from tests.helpers import make_org


def key_headers(conn, org, scopes, per_minute=60, per_hour=1000) -> dict[str, str]:
    issued = keys.create_key(conn, org.org_id, list(scopes), "Scoped", per_minute, per_hour)
    return {"X-API-Key": issued.key, "X-API-Secret": issued.secret}


def test_validate_returns_the_documented_key_information(client, conn, org):
    headers = key_headers(conn, org, ["write", "send"], per_minute=30, per_hour=500)
    response = client.post("/api/auth/validate", headers=headers)
    assert response.status_code == 200
    key_id = conn.execute("SELECT max(id) AS id FROM api_keys").fetchone()["id"]
    assert response.json == {
        "success": True,
        "data": {
            "valid": True,
            "key": {
                "id": key_id,
                "name": "Scoped",
                "permissions": ["read", "write", "send"],
                "rate_limit": {"requests_per_minute": 30, "requests_per_hour": 500},
            },
        },
    }


def test_validate_with_a_wrong_secret_is_401(client, org):
    headers = {"X-API-Key": org.key.key, "X-API-Secret": "wrong"}
    response = client.post("/api/auth/validate", headers=headers)
    assert response.status_code == 401
    assert response.json == {"success": False, "error": "Invalid API credentials"}


def test_a_revoked_key_is_refused(client, conn, org):
    conn.execute("UPDATE api_keys SET revoked_at = now()")
    assert client.post("/api/auth/validate", headers=org.headers).status_code == 401


@pytest.mark.parametrize(
    ("scopes", "method", "path", "status"),
    [
        (["read"], "GET", "/api/emails", 200),
        (["read"], "POST", "/api/ignored-subjects", 403),
        (["write"], "GET", "/api/emails", 200),
        (["write"], "POST", "/api/ignored-subjects", 201),
        (["send"], "GET", "/api/tickets", 403),
        (["write"], "GET", "/api/keys", 403),
        (["admin"], "GET", "/api/keys", 200),
        (["write"], "PATCH", "/api/organization", 403),
        (["admin"], "PATCH", "/api/organization", 200),
    ],
)
def test_each_endpoint_demands_its_scope(client, conn, org, scopes, method, path, status):
    body = {"subject": "Out of office"} if path == "/api/ignored-subjects" else {}
    response = client.open(
        path,
        method=method,
        headers=key_headers(conn, org, scopes),
        json=None if method == "GET" else body,
    )
    assert response.status_code == status, response.json
    if status == 403:
        assert response.json["success"] is False
        assert "scope" in response.json["error"]


def test_use_of_a_key_is_recorded(client, conn, org):
    client.get("/api/emails", headers=org.headers)
    row = conn.execute("SELECT last_used_at FROM api_keys WHERE id = %s", (org.key.id,)).fetchone()
    assert row["last_used_at"] is not None


def test_every_authenticated_answer_carries_rate_limit_headers(client, conn, org):
    headers = key_headers(conn, org, ["read"], per_minute=5, per_hour=100)
    ok = client.get("/api/emails", headers=headers)
    missing = client.get("/api/emails/999", headers=headers)
    for response, remaining in ((ok, "4"), (missing, "3")):
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert response.headers["X-RateLimit-Remaining"] == remaining
    assert missing.status_code == 404


def test_over_the_minute_limit_answers_429_with_retry_after(client, conn, org):
    headers = key_headers(conn, org, ["read"], per_minute=3, per_hour=100)
    statuses = [client.get("/api/emails", headers=headers).status_code for _ in range(3)]
    refused = client.get("/api/emails", headers=headers)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json["success"] is False
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Limit"] == "3"


def test_the_hour_limit_applies_when_tighter(client, conn, org):
    headers = key_headers(conn, org, ["read"], per_minute=100, per_hour=2)
    assert [client.get("/api/emails", headers=headers).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]


def test_limits_are_per_key(client, conn, org):
    tight = key_headers(conn, org, ["read"], per_minute=1)
    client.get("/api/emails", headers=tight)
    assert client.get("/api/emails", headers=tight).status_code == 429
    assert client.get("/api/emails", headers=org.headers).status_code == 200


def test_limits_are_shared_by_every_web_process(conn, org):
    from web import create_app

    first, second = (create_app(load_settings()).test_client() for _ in range(2))
    headers = key_headers(conn, org, ["read"], per_minute=4)
    statuses = [
        (first if i % 2 else second).get("/api/emails", headers=headers).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]


def test_a_body_that_is_not_json_is_a_400(client, org):
    response = client.post(
        "/api/emails/bulk", data="{not json", content_type="application/json", headers=org.headers
    )
    assert response.status_code == 400
    assert response.json["error"] == "Request body is not valid JSON"


def test_nul_characters_are_refused_before_they_reach_the_database(client, org):
    query = client.get("/api/emails?subject=a%00b", headers=org.headers)
    body = client.post("/api/customers", json={"name": "a\x00b"}, headers=org.headers)
    assert (query.status_code, query.json["field"]) == (422, "subject")
    assert (body.status_code, body.json["field"]) == (422, "name")


def test_ids_beyond_bigint_are_404_not_500(client, org):
    assert client.get(f"/api/emails/{2**70}", headers=org.headers).status_code == 404


def test_another_organizations_key_cannot_validate_as_this_one(client, conn):
    other = make_org(conn, "Other")
    response = client.post("/api/auth/validate", headers=other.headers)
    assert response.json["data"]["key"]["id"] == other.key.id
