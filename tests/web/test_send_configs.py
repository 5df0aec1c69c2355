"""``/api/send/configs``: SMTP relays per organization, password encrypted and never shown."""

from __future__ import annotations

from pipeline import crypto
from tests.helpers import make_org

RELAY = {
    "name": "Brevo",
    "host": "smtp-relay.example.com",
    "port": 587,
    "tls_mode": "starttls",
    "username": "apikey",
    "password": "s3cret-relay-password",
    "from_email": "support@example.com",
    "from_name": "Acme Support",
    "is_default": True,
}


def create(client, org, **overrides):
    response = client.post("/api/send/configs", json={**RELAY, **overrides}, headers=org.headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def test_a_created_relay_never_shows_its_password_and_stores_it_encrypted(
    client, org, conn, settings
):
    data = create(client, org)
    assert data["has_password"] is True and "password" not in data
    assert "s3cret" not in client.get("/api/send/configs", headers=org.headers).get_data(True)
    stored = conn.execute(
        "SELECT password_enc FROM send_configs WHERE id = %s", (data["id"],)
    ).fetchone()["password_enc"]
    assert b"s3cret" not in bytes(stored)
    assert crypto.decrypt(settings.secret_key, bytes(stored)) == RELAY["password"]


def test_making_another_relay_the_default_takes_the_flag(client, org):
    first = create(client, org)
    second = create(client, org, name="Backup", is_default=False)
    response = client.patch(
        f"/api/send/configs/{second['id']}", json={"is_default": True}, headers=org.headers
    )
    assert response.json["data"]["is_default"] is True
    listed = client.get("/api/send/configs", headers=org.headers).json["data"]
    assert [(c["id"], c["is_default"]) for c in listed] == [
        (second["id"], True),
        (first["id"], False),
    ]


def test_patch_changes_only_what_it_names_and_null_password_removes_it(client, org):
    data = create(client, org)
    url = f"/api/send/configs/{data['id']}"
    changed = client.patch(url, json={"port": 2525, "password": None}, headers=org.headers)
    assert changed.json["data"]["port"] == 2525
    assert changed.json["data"]["has_password"] is False
    assert changed.json["data"]["host"] == RELAY["host"]
    refused = client.patch(url, json={"host": None}, headers=org.headers)
    assert refused.status_code == 422 and refused.json["field"] == "host"


def test_bad_relays_are_a_422_naming_the_field(client, org):
    for body, field in (
        ({**RELAY, "tls_mode": "maybe"}, "tls_mode"),
        ({**RELAY, "port": 0}, "port"),
        ({**RELAY, "from_email": "nope"}, "from_email"),
        ({**RELAY, "from_name": "A\r\nBcc: x@example.org"}, "from_name"),
    ):
        response = client.post("/api/send/configs", json=body, headers=org.headers)
        assert response.status_code == 422 and response.json["field"] == field


def test_delete_and_tenancy(client, conn, org):
    data = create(client, org)
    other = make_org(conn, "Other")
    url = f"/api/send/configs/{data['id']}"
    assert client.get(url, headers=other.headers).status_code == 404
    assert client.delete(url, headers=other.headers).status_code == 404
    assert client.delete(url, headers=org.headers).status_code == 200
    assert client.get(url, headers=org.headers).status_code == 404


def test_relays_need_the_admin_scope(client, conn, org):
    sender = make_org(conn, "Senders", scopes=("read", "write", "send"))
    response = client.post("/api/send/configs", json=RELAY, headers=sender.headers)
    assert response.status_code == 403
