"""The ``intake`` command line."""

from __future__ import annotations

import json
import subprocess
import sys


def intake(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_migrate_is_idempotent():
    assert "up to date" in intake("migrate")


def test_org_create_prints_an_admin_key_that_authenticates(client):
    created = json.loads(intake("org", "create", "Acme Support"))
    assert set(created) == {"id", "name", "key", "secret", "token"}
    assert created["token"] == f"{created['key']}.{created['secret']}"
    headers = {"X-API-Key": created["key"], "X-API-Secret": created["secret"]}
    assert client.get("/api/emails", headers=headers).status_code == 200


def test_key_and_mailbox_create(client, conn):
    org = json.loads(intake("org", "create", "Acme"))
    key = json.loads(intake("key", "create", "--org", org["id"], "--scopes", "write"))
    assert key["id"] == org["id"]
    scopes = conn.execute(
        "SELECT scopes FROM api_keys WHERE public_id = %s", (key["key"],)
    ).fetchone()["scopes"]
    assert scopes == ["read", "write"]
    box = json.loads(
        intake(
            "mailbox", "create", "--org", org["id"], "--address", "Help@Acme.test", "--name", "Help"
        )
    )
    assert isinstance(box["id"], int)
    assert box["address"] == "help@acme.test"


def test_key_create_refuses_unknown_scopes():
    org = json.loads(intake("org", "create", "Acme"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "workers.cli",
            "key",
            "create",
            "--org",
            org["id"],
            "--scopes",
            "read,root",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "unknown scopes: root" in result.stderr


def test_sendconfig_create_stores_the_relay_with_its_password_encrypted(conn, settings):
    from pipeline import crypto

    org = json.loads(intake("org", "create", "Acme"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "workers.cli",
            "sendconfig",
            "create",
            "--org",
            org["id"],
            "--host",
            "smtp.example.net",
            "--port",
            "465",
            "--tls",
            "ssl",
            "--username",
            "relay",
            "--password-stdin",
            "--from-email",
            "support@acme.test",
            "--default",
        ],
        input="hunter2-secret\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["has_password"] is True and "hunter2" not in result.stdout
    row = conn.execute("SELECT * FROM send_configs WHERE id = %s", (shown["id"],)).fetchone()
    assert (row["host"], row["port"], row["tls_mode"], row["is_default"]) == (
        "smtp.example.net",
        465,
        "ssl",
        True,
    )
    assert crypto.decrypt(settings.secret_key, row["password_enc"]) == "hunter2-secret"


def test_replay_failed_puts_failed_messages_through_the_workers_again(conn, mailbox, worker):
    from tests.helpers import accept, wait_for
    from tests.pipeline.mailflow import mail
    from workers import runtime

    ids = [
        accept(runtime.pool(), mail(f"Broken {n}", message_id=f"<broken-{n}@x>"), mailbox)
        for n in range(2)
    ]
    conn.execute(
        "UPDATE messages SET state = 'failed', last_error = 'parse: boom' WHERE id = ANY(%s)",
        (ids,),
    )
    result = json.loads(intake("replay", "--failed"))
    assert result == {"replayed": [{"id": i, "stage": "parse"} for i in ids], "skipped": []}
    wait_for(
        lambda: (
            conn.execute(
                "SELECT count(*) AS n FROM messages WHERE state = 'done' AND ticket_id IS NOT NULL"
            ).fetchone()["n"]
            == 2
        )
    )
    assert json.loads(intake("replay", str(ids[0])))["skipped"] == [
        {"id": ids[0], "reason": "already done (use --from-start to re-run it)"}
    ]
    assert json.loads(intake("replay", "--from-start", str(ids[0])))["replayed"] == [
        {"id": ids[0], "stage": "parse"}
    ]
    wait_for(
        lambda: (
            conn.execute("SELECT state FROM messages WHERE id = %s", (ids[0],)).fetchone()["state"]
            == "done"
        )
    )
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 2
