"""API keys: admin-only; the secret is shown once at creation, never listed; revocation."""

from __future__ import annotations


def test_created_key_shows_its_secret_once_and_works(client, org):
    created = client.post(
        "/api/keys",
        json={"name": "CI", "scopes": ["write"], "requests_per_minute": 10},
        headers=org.headers,
    )
    assert created.status_code == 201
    data = created.json["data"]
    assert data["permissions"] == ["read", "write"]
    assert data["rate_limit"] == {"requests_per_minute": 10, "requests_per_hour": 1000}
    headers = {"X-API-Key": data["key"], "X-API-Secret": data["secret"]}
    assert client.post("/api/auth/validate", headers=headers).status_code == 200
    listed = client.get("/api/keys", headers=org.headers).json["data"]
    assert {k["name"] for k in listed} == {"API key", "CI"}
    assert all("secret" not in k and "secret_hash" not in k for k in listed)
    shown = client.get(f"/api/keys/{data['id']}", headers=org.headers).json["data"]
    assert "secret" not in shown


def test_revoked_key_stops_working(client, org):
    data = client.post("/api/keys", json={"name": "Temp"}, headers=org.headers).json["data"]
    revoked = client.delete(f"/api/keys/{data['id']}", headers=org.headers)
    assert revoked.json["data"]["is_active"] is False
    headers = {"X-API-Key": data["key"], "X-API-Secret": data["secret"]}
    assert client.get("/api/emails", headers=headers).status_code == 401


def test_unknown_scope_is_a_422_naming_the_field(client, org):
    response = client.post("/api/keys", json={"name": "x", "scopes": ["root"]}, headers=org.headers)
    assert response.status_code == 422
    assert response.json["field"] == "scopes.0"
