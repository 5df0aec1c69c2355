"""``002_…`` mail accounts over the native API, against a real Dovecot."""

from __future__ import annotations

import json

import pytest

from config import load_settings
from pipeline.store import keys, mailboxes
from tests.helpers import accept, make_org, mfs, run_pipeline, wait_for

MAIL = mfs("""
    From: Dana <dana@example.org>
    To: imap@example.com
    Subject: Where is my order
    Message-ID: <order-1@example.org>

    It has not arrived.
""")


def payload(user, **changes):
    return {
        "name": "Support mailbox",
        "email": "imap@example.com",
        "host": user.server.host,
        "port": user.server.port,
        "username": user.name,
        "password": user.password,
        "encryption": "none",
        **changes,
    }


@pytest.fixture
def account(client, org, imap_user):
    response = client.post(
        "/api/accounts", json=payload(imap_user, is_active=True), headers=org.headers
    )
    assert response.status_code == 201, response.json
    return response.json["data"]


def test_create_applies_the_documented_defaults_and_never_returns_the_password(
    client, org, imap_user, conn
):
    body = {k: v for k, v in payload(imap_user).items() if k != "encryption"}
    response = client.post("/api/accounts", json=body, headers=org.headers)

    assert response.status_code == 201
    data = response.json["data"]
    assert response.json["success"] is True
    assert data["encryption"] == "ssl"
    assert data["is_active"] is False
    assert data["sync_folders"] == ["INBOX"]
    assert data["has_password"] is True
    assert data["email"] == "imap@example.com"
    assert "password" not in data
    assert imap_user.password not in response.get_data(as_text=True)
    account = mailboxes.imap_account(conn, load_settings().secret_key, data["id"])
    assert account.password == imap_user.password


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "A"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"email": "not-an-address"}, "email"),
        ({"host": None}, "host"),
        ({"port": 0}, "port"),
        ({"port": "imap"}, "port"),
        ({"username": ""}, "username"),
        ({"password": ""}, "password"),
        ({"encryption": "starttls"}, "encryption"),
        ({"sync_folders": "INBOX"}, "sync_folders"),
        ({"sync_folders": []}, "sync_folders"),
        ({"is_active": "maybe"}, "is_active"),
        ({"host": "mail example.com"}, "host"),
        ({"username": "bob\x00"}, "username"),
        ({"password": "pw\r\nA1 LOGOUT"}, "password"),
        ({"name": "Sup\x00port"}, "name"),
        ({"email": "a\x00b@example.com"}, "email"),
        ({"sync_folders": ["INBOX\r\nA1 DELETE INBOX"]}, "sync_folders"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(client, org, imap_user, change, field):
    body = {k: v for k, v in {**payload(imap_user), **change}.items() if v is not None}
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert response.status_code == 422
    assert response.json["success"] is False
    assert response.json["field"] == field


def test_create_without_a_required_field_names_it(client, org, imap_user):
    body = {k: v for k, v in payload(imap_user).items() if k != "password"}
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert (response.status_code, response.json["field"]) == (422, "password")


def test_create_with_test_connection_refuses_bad_credentials_and_saves_nothing(
    client, org, imap_user, conn
):
    body = payload(imap_user, password="wrong", test_connection=True)
    response = client.post("/api/accounts", json=body, headers=org.headers)

    assert response.status_code == 422
    assert response.json["field"] == "test_connection"
    assert "login failed" in response.json["error"]
    assert conn.execute("SELECT count(*) AS n FROM mailboxes").fetchone()["n"] == 0

    body["password"] = imap_user.password
    assert client.post("/api/accounts", json=body, headers=org.headers).status_code == 201


def test_an_address_already_in_use_is_a_409(client, org, account, imap_user):
    response = client.post("/api/accounts", json=payload(imap_user), headers=org.headers)
    assert (response.status_code, response.json["field"]) == (409, "email")


def test_list_shows_accounts_with_stats_on_request(client, org, account):
    plain = client.get("/api/accounts", headers=org.headers).json["data"]
    with_stats = client.get("/api/accounts?include_stats=1", headers=org.headers).json["data"]
    assert [a["id"] for a in plain] == [account["id"]]
    assert "stats" not in plain[0]
    assert with_stats[0]["stats"]["total_emails"] == 0


def test_update_keeps_the_password_unless_a_new_one_is_given(client, org, account, conn):
    url = f"/api/accounts/{account['id']}"
    secret = load_settings().secret_key
    before = mailboxes.imap_account(conn, secret, account["id"]).password

    response = client.put(url, json={"name": "Renamed", "password": ""}, headers=org.headers)
    assert response.status_code == 200
    assert response.json["data"]["name"] == "Renamed"
    assert mailboxes.imap_account(conn, secret, account["id"]).password == before

    client.put(url, json={"password": "n3w-secret"}, headers=org.headers)
    assert mailboxes.imap_account(conn, secret, account["id"]).password == "n3w-secret"


def test_update_with_test_connection_uses_the_stored_password(client, org, account):
    url = f"/api/accounts/{account['id']}"
    good = client.put(url, json={"test_connection": True, "mark_seen": True}, headers=org.headers)
    assert good.status_code == 200 and good.json["data"]["mark_seen"] is True
    bad = client.put(url, json={"test_connection": True, "port": 1}, headers=org.headers)
    assert (bad.status_code, bad.json["field"]) == (422, "test_connection")


def test_connection_test_lists_folders_or_gives_the_precise_error(client, org, account):
    url = f"/api/accounts/{account['id']}"
    response = client.post(f"{url}/test", headers=org.headers)
    assert response.json["data"] == {
        "connected": True,
        "folders": ["INBOX"],
        "message": "Connection successful",
    }

    client.put(url, json={"password": "wrong"}, headers=org.headers)
    failed = client.post(f"{url}/test", headers=org.headers).json["data"]
    assert failed["connected"] is False
    assert failed["message"].startswith("login failed for")


def test_folders_have_message_and_unseen_counts(client, org, account, imap_user):
    imap_user.append("INBOX", MAIL, MAIL)
    client_ = imap_user.client()
    client_.create_folder("Archive")
    client_.append("Archive", MAIL, flags=[b"\\Seen"])
    client_.logout()

    response = client.get(f"/api/accounts/{account['id']}/folders", headers=org.headers)

    assert response.status_code == 200
    assert sorted(response.json["data"], key=lambda f: f["path"]) == [
        {"name": "Archive", "path": "Archive", "messages": 1, "unseen": 0},
        {"name": "INBOX", "path": "INBOX", "messages": 2, "unseen": 2},
    ]


def test_folders_of_an_unreachable_server_is_a_502_with_the_reason(client, org, account):
    client.put(f"/api/accounts/{account['id']}", json={"port": 1}, headers=org.headers)
    response = client.get(f"/api/accounts/{account['id']}/folders", headers=org.headers)
    assert response.status_code == 502
    assert response.json == {
        "success": False,
        "error": "IMAP server error: connection refused by 127.0.0.1:1",
    }


def test_sync_request_is_queued_and_imported_by_the_workers(
    client, org, account, imap_user, conn, worker
):
    imap_user.append("INBOX", MAIL)
    url = f"/api/accounts/{account['id']}/sync"

    response = client.post(url, json={}, headers=org.headers)
    assert response.json["data"]["folders"] == ["INBOX"]
    wait_for(lambda: _messages(conn, account["id"]) == 1)

    again = client.post(
        url,
        json={"folder": "INBOX", "full_resync": True, "since_date": "2020-01-31"},
        headers=org.headers,
    )
    assert again.json["data"]["since_date"] == "2020-01-31"
    wait_for(lambda: _messages(conn, account["id"]) == 2)  # re-read; dedupe's job from here


@pytest.mark.parametrize("since", ["31/01/2020", "2020-13-01", "20200131", 1580428800])
def test_sync_rejects_a_since_date_that_is_not_y_m_d(client, org, account, since):
    response = client.post(
        f"/api/accounts/{account['id']}/sync", json={"since_date": since}, headers=org.headers
    )
    assert (response.status_code, response.json["field"]) == (422, "since_date")


@pytest.mark.parametrize("folder", ["", "IN\x00BOX", "INBOX\r\nA1 LOGOUT"])
def test_sync_rejects_a_folder_name_imap_cannot_carry(client, org, account, folder):
    response = client.post(
        f"/api/accounts/{account['id']}/sync", json={"folder": folder}, headers=org.headers
    )
    assert (response.status_code, response.json["field"]) == (422, "folder")


def _messages(conn, mailbox_id):
    return conn.execute(
        "SELECT count(*) AS n FROM messages WHERE mailbox_id = %s", (mailbox_id,)
    ).fetchone()["n"]


def test_get_and_stats_show_configuration_mail_counts_and_sync_state(
    client, org, account, pool, conn
):
    box = mailboxes.get(conn, org.org_id, account["id"])
    run_pipeline(pool, accept(pool, MAIL, box, channel="imap"))
    detail = client.get(f"/api/accounts/{account['id']}", headers=org.headers).json["data"]
    stats = client.get(f"/api/accounts/{account['id']}/stats", headers=org.headers).json["data"]

    assert detail["host"] == account["host"] and "password" not in detail
    assert detail["stats"] == stats
    assert stats["total_emails"] == 1 and stats["unread_emails"] == 1
    assert stats["with_attachments"] == 0
    assert stats["by_folder"] == [{"folder": "INBOX", "count": 1}]
    assert stats["latest_email_at"] == stats["oldest_email_at"] is not None


def test_delete_keeps_the_mail_unless_asked_to_delete_it(client, org, account, pool, conn):
    box = mailboxes.get(conn, org.org_id, account["id"])
    accept(pool, MAIL, box)
    response = client.delete(f"/api/accounts/{account['id']}", headers=org.headers)
    assert response.json["data"] == {"id": account["id"], "deleted": True, "emails_deleted": 0}
    assert conn.execute("SELECT mailbox_id FROM messages").fetchone()["mailbox_id"] is None

    other = client.post(
        "/api/accounts", json={**account, "password": "x", "port": 993}, headers=org.headers
    ).json["data"]
    box = mailboxes.get(conn, org.org_id, other["id"])
    accept(pool, MAIL, box)
    response = client.delete(f"/api/accounts/{other['id']}?delete_emails=1", headers=org.headers)
    assert response.json["data"]["emails_deleted"] == 1
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM blobs").fetchone()["n"] == 1  # still used


ENDPOINTS = [
    ("get", ""),
    ("put", ""),
    ("delete", ""),
    ("post", "/test"),
    ("post", "/sync"),
    ("get", "/folders"),
    ("get", "/stats"),
]


@pytest.mark.parametrize(("method", "suffix"), ENDPOINTS)
def test_another_organizations_account_is_a_404(client, conn, account, method, suffix):
    stranger = make_org(conn, "Stranger")
    response = getattr(client, method)(
        f"/api/accounts/{account['id']}{suffix}", json={}, headers=stranger.headers
    )
    assert response.status_code == 404
    assert response.json == {"success": False, "error": "Account not found"}
    assert client.get("/api/accounts", headers=stranger.headers).json["data"] == []


@pytest.mark.parametrize(("method", "suffix"), [*ENDPOINTS[1:5], ("post", "")])
def test_changes_need_the_write_scope(client, conn, org, account, method, suffix):
    reader = keys.create_key(conn, org.org_id, ["read"])
    headers = {"X-API-Key": reader.key, "X-API-Secret": reader.secret}
    path = (
        "/api/accounts"
        if (method, suffix) == ("post", "")
        else f"/api/accounts/{account['id']}{suffix}"
    )
    response = getattr(client, method)(path, json={}, headers=headers)
    assert response.status_code == 403
    assert client.get(f"/api/accounts/{account['id']}", headers=headers).status_code == 200


def test_the_password_appears_in_no_answer_and_no_log(client, org, imap_user, caplog):
    secret = imap_user.password
    created = client.post("/api/accounts", json=payload(imap_user), headers=org.headers)
    base = f"/api/accounts/{created.json['data']['id']}"
    answers = [
        created,
        client.get("/api/accounts?include_stats=true", headers=org.headers),
        client.get(base, headers=org.headers),
        client.put(base, json={"encryption": "ssl"}, headers=org.headers),
        client.post(f"{base}/test", headers=org.headers),
    ]
    assert all(secret not in json.dumps(a.json) for a in answers)
    assert secret not in caplog.text


def test_a_folder_listed_twice_is_synced_once(client, org, imap_user):
    body = payload(imap_user, sync_folders=["INBOX", "Archive", "INBOX"])
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert response.json["data"]["sync_folders"] == ["INBOX", "Archive"]


def test_the_openapi_document_describes_the_account_endpoints(client):
    paths = client.get("/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/accounts"])
    assert {"get", "put", "delete"} <= set(paths["/api/accounts/{account_id}"])
    assert "post" in paths["/api/accounts/{account_id}/sync"]


def test_deleting_an_account_with_its_emails_drops_blobs_nothing_else_uses(
    client, org, account, pool, conn
):
    box = mailboxes.get(conn, org.org_id, account["id"])
    run_pipeline(pool, accept(pool, MAIL, box))
    response = client.delete(
        f"/api/accounts/{account['id']}?delete_emails=true", headers=org.headers
    )
    assert response.json["data"]["emails_deleted"] == 1
    assert conn.execute("SELECT count(*) AS n FROM blobs").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM mailboxes").fetchone()["n"] == 0


def test_testing_a_mailbox_without_imap_settings_names_the_missing_field(client, org, conn):
    box = mailboxes.create(conn, org.org_id, "smtp-only@example.com")
    url = f"/api/accounts/{box.id}"
    tested = client.put(url, json={"test_connection": True}, headers=org.headers)
    assert (tested.status_code, tested.json["field"]) == (422, "host")
    direct = client.post(f"{url}/test", headers=org.headers)
    assert (direct.status_code, direct.json["field"]) == (422, "host")
    listed = client.get("/api/accounts", headers=org.headers).json["data"][0]
    assert (listed["host"], listed["has_password"]) == (None, False)


def test_a_host_name_no_resolver_accepts_fails_the_connection_test_cleanly(client, org, imap_user):
    body = payload(imap_user, host="a" * 70 + ".example.com", test_connection=True)
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert response.status_code == 422
    assert response.json["error"].startswith("invalid host name")  # refused before any test
    assert response.json["field"] == "host"


def test_stats_show_each_folders_sync_state_and_skipped_mail(
    client, org, account, imap_user, pool, settings
):
    from pipeline.intake.imap import SyncRequest, sync_folder

    imap_user.append("INBOX", MAIL, MAIL + b"x" * 4_000)
    small = settings.with_overrides(max_message_bytes=2_000)
    sync_folder(pool, small, account["id"], "INBOX", SyncRequest(), lambda _: None)

    stats = client.get(f"/api/accounts/{account['id']}/stats", headers=org.headers).json["data"]

    assert stats["total_emails"] == 1
    [inbox] = stats["sync"]
    assert inbox["folder"] == "INBOX" and inbox["last_uid"] == 2
    assert inbox["skipped_messages"] == 1 and inbox["last_error"] is None
    assert inbox["uidvalidity"] and inbox["last_synced_at"]


def test_a_password_the_key_cannot_decrypt_asks_for_the_password_again(client, org, account, conn):
    from pipeline.crypto import encrypt

    conn.execute(
        "UPDATE mailboxes SET imap_password_enc = %s WHERE id = %s",
        (encrypt("some-other-key", "pw"), account["id"]),
    )
    response = client.post(f"/api/accounts/{account['id']}/test", headers=org.headers)
    assert (response.status_code, response.json["field"]) == (422, "password")
