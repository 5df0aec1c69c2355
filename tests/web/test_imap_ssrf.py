"""Issue 16 point 2: IMAP settings are not a way into the operator's network.

A mailbox's IMAP host is resolved and checked like any URL Intake fetches: loopback,
private and link-local hosts are refused before any connection unless the operator sets
``INTAKE_IMAP_ALLOW_PRIVATE`` (the test session sets it for Dovecot on 127.0.0.1; these
tests turn it off). Whatever a host answers, its bytes never reach the caller.
"""

from __future__ import annotations

import socket
import threading

import pytest

from config import load_settings
from pipeline.crypto import encrypt
from pipeline.intake import imap_idle
from pipeline.intake.imap import SyncRequest, sync_folder
from pipeline.intake.imap_connect import ImapFailure
from pipeline.store import mailboxes
from tests.web.family_helpers import bearer

REFUSED_HOSTS = ["127.0.0.1", "localhost", "::1", "::ffff:127.0.0.1", "10.1.2.3"]


@pytest.fixture(scope="module")
def strict():
    """Settings and a web client as in production: no private IMAP hosts."""
    from web import create_app

    settings = load_settings().with_overrides(imap_allow_private=False)
    app = create_app(settings)
    app.testing = True
    yield settings, app.test_client()
    app.extensions["intake_pool"].close()


@pytest.fixture
def tripwire():
    """A listening loopback port that records whether anyone connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server
    server.close()


def was_connected(tripwire: socket.socket) -> bool:
    try:
        tripwire.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def account_body(host: str, port: int, **changes) -> dict:
    return {
        "name": "Internal",
        "email": "internal@example.test",
        "host": host,
        "port": port,
        "username": "u",
        "password": "p",
        "encryption": "none",
    } | changes


@pytest.mark.parametrize("host", REFUSED_HOSTS)
@pytest.mark.parametrize("test_connection", [True, False])
def test_a_private_imap_host_is_refused_before_any_connection(
    strict, org, tripwire, host, test_connection
):
    _, client = strict
    port = tripwire.getsockname()[1]
    body = account_body(host, port, test_connection=test_connection)
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert response.status_code == 422, response.json
    assert response.json["field"] == "host"
    assert response.json["error"] == f"{host} is not a public address"
    assert not was_connected(tripwire)


def test_the_cloud_metadata_address_is_refused(strict, org):
    _, client = strict
    body = account_body("169.254.169.254", 80, test_connection=True)
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert response.status_code == 422
    assert response.json["error"] == "169.254.169.254 is not a public address"


def test_an_update_cannot_move_an_account_to_a_private_host(strict, conn, org):
    _, client = strict
    box = mailboxes.create_account(
        conn, org.org_id, account_body("imap.example.test", 993), encrypt("k" * 32, "p")
    )
    response = client.put(
        f"/api/accounts/{box['id']}", json={"host": "localhost"}, headers=org.headers
    )
    assert response.status_code == 422 and response.json["field"] == "host"


def test_the_004_imap_host_is_refused_on_create_and_update(strict, org, mailbox):
    _, client = strict
    headers = bearer(org.key.token)
    created = client.post(
        "/api/v1/mail/mailboxes/create",
        json={"name": "x", "address": "x@example.test", "imap_host": "169.254.169.254"},
        headers=headers,
    )
    assert created.status_code == 422
    assert created.json["errors"] == {"imap_host": ["169.254.169.254 is not a public address"]}
    updated = client.post(
        "/api/v1/mail/mailboxes/update",
        json={"mailbox_id": mailbox.id, "imap_host": "localhost"},
        headers=headers,
    )
    assert updated.status_code == 422


@pytest.fixture
def stored_private_account(conn, org, settings, tripwire):
    """An active account saved while private hosts were allowed, pointing at the tripwire."""
    fields = account_body("127.0.0.1", tripwire.getsockname()[1], is_active=True)
    secret = encrypt(settings.secret_key, "p")
    return mailboxes.create_account(conn, org.org_id, fields, secret)["id"]


def test_every_path_to_a_stored_private_host_refuses_without_connecting(
    strict, org, pool, stored_private_account, tripwire
):
    settings, client = strict
    box = stored_private_account
    tested = client.post(f"/api/accounts/{box}/test", headers=org.headers).json["data"]
    assert tested["connected"] is False and tested["kind"] == "refused"
    folders = client.get(f"/api/accounts/{box}/folders", headers=org.headers)
    assert folders.status_code == 422
    report = sync_folder(pool, settings, box, "INBOX", SyncRequest(), lambda _: None)
    assert report.error == "127.0.0.1 is not a public address"
    with pool.connection() as conn:
        account = mailboxes.imap_account(conn, settings.secret_key, box)
    with pytest.raises(ImapFailure, match="not a public address"):
        imap_idle.watch_folder(account, "INBOX", settings, lambda: None, threading.Event())
    assert not was_connected(tripwire)


def test_another_services_banner_never_reaches_the_caller(client, org, smtp_server, settings):
    body = account_body("127.0.0.1", smtp_server.port, test_connection=True)
    response = client.post("/api/accounts", json=body, headers=org.headers)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "ESMTP" not in text and settings.smtp_hostname not in text
    assert response.json["error"] == (
        f"Connection test failed: 127.0.0.1:{smtp_server.port} did not answer as an IMAP server"
    )


def test_tls_verifies_the_host_name_while_connecting_to_the_checked_address(
    client, org, dovecot_tls, monkeypatch
):
    user = dovecot_tls.add_user()
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot_tls.root / "cert.pem"))  # trust it
    body = account_body(
        "localhost", dovecot_tls.tls_port, username=user.name, password=user.password,
        encryption="ssl", test_connection=True,
    )  # fmt: skip
    by_name = client.post("/api/accounts", json=body, headers=org.headers)
    assert by_name.status_code == 201, by_name.json
    body |= {"host": "127.0.0.1", "email": "other@example.test"}
    by_address = client.post("/api/accounts", json=body, headers=org.headers)
    assert by_address.status_code == 422
    assert "TLS failure" in by_address.json["error"]
