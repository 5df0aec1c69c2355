"""Issue 16 point 1: no organization can take another's mail by claiming its address.

Organization A (the victim) receives at ``support@example.test``; B (the attacker) tries to
claim it, and a not-yet-created address of A's domain, as mailbox aliases through every
way mailboxes are made: the ``004`` mail admin, the ``002`` accounts API and the CLI.
"""

from __future__ import annotations

import smtplib
import subprocess
import sys

import psycopg
import pytest

from pipeline.store import mailboxes
from tests.helpers import make_org, mfs
from tests.web.family_helpers import bearer

A_ADDRESS = "support@example.test"
MAIL = mfs("""
    From: Customer <customer@example.org>
    To: support@example.test
    Subject: My order
    Message-ID: <hijack-1@example.org>

    Where is my order?
""")


@pytest.fixture
def victim(conn):
    org = make_org(conn, "Victim A")
    return org, mailboxes.create(conn, org.org_id, A_ADDRESS, "Support")


@pytest.fixture
def attacker(conn):
    return make_org(conn, "Attacker B")


def create_mailbox(client, org, body):
    return client.post("/api/v1/mail/mailboxes/create", json=body, headers=bearer(org.key.token))


def hijack(client, org, aliases):
    body = {"name": "hijack", "address": "hijack@b.test", "aliases": aliases}
    return create_mailbox(client, org, body)


def assert_in_use(response, field, victim_org):
    assert response.status_code == 409, response.json
    assert response.json["errors"] == {field: ["address already in use"]}
    text = response.get_data(as_text=True)
    assert str(victim_org.org_id) not in text and "Victim" not in text


def send_to(smtp_server, recipient):
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port, timeout=10) as smtp:
        return smtp.sendmail("customer@example.org", [recipient], MAIL)


def stored_orgs(conn):
    return [r["org_id"] for r in conn.execute("SELECT org_id FROM messages ORDER BY id")]


def test_an_alias_naming_another_organizations_address_is_refused(client, conn, victim, attacker):
    org_a, _ = victim
    response = hijack(client, attacker, ["Support@Example.test", "newaddr@example.test"])
    assert_in_use(response, "aliases", org_a)
    assert conn.execute("SELECT count(*) AS n FROM mailboxes").fetchone()["n"] == 1


@pytest.mark.parametrize("variant", ["SUPPORT@EXAMPLE.TEST", "support+vip@example.test"])
def test_case_and_plus_forms_of_a_taken_address_are_the_same_address(
    client, victim, attacker, variant
):
    assert_in_use(hijack(client, attacker, [variant]), "aliases", victim[0])
    response = create_mailbox(client, attacker, {"name": "x", "address": variant})
    assert_in_use(response, "address", victim[0])


def test_after_the_victim_updates_its_mailbox_its_mail_stays_its_own(
    client, conn, smtp_server, victim, attacker
):
    org_a, box_a = victim
    assert_in_use(hijack(client, attacker, [A_ADDRESS]), "aliases", org_a)
    hijacker = hijack(client, attacker, ["other@b.test"])
    assert hijacker.status_code == 201
    b_box = hijacker.json["data"]["id"]
    # A's row moves; B tries again by updating its own mailbox.
    moved = client.post(
        "/api/v1/mail/mailboxes/update",
        json={"mailbox_id": box_a.id, "name": "Support desk", "aliases": ["help@example.test"]},
        headers=bearer(org_a.key.token),
    )
    assert moved.status_code == 200
    again = client.post(
        "/api/v1/mail/mailboxes/update",
        json={"mailbox_id": b_box, "aliases": ["help@example.test", A_ADDRESS]},
        headers=bearer(attacker.key.token),
    )
    assert_in_use(again, "aliases", org_a)

    assert send_to(smtp_server, A_ADDRESS) == {}
    assert send_to(smtp_server, "help@example.test") == {}
    assert stored_orgs(conn) == [org_a.org_id, org_a.org_id]
    listed = client.get("/api/v1/incoming_mails", headers=bearer(attacker.key.token))
    assert listed.status_code == 200 and listed.json["data"] == []


def test_the_victims_rpc_still_reaches_its_mailbox(client, conn, victim, attacker):
    org_a, box_a = victim
    hijack(client, attacker, [A_ADDRESS])
    mailboxes.create(conn, org_a.org_id, "billing@example.test")  # another row, after A's
    response = client.post(
        "/api/rpc/tickets/email/inbound",
        json={
            "organizationId": str(org_a.org_id),
            "from": "customer@example.org",
            "to": A_ADDRESS,
            "subject": "My order",
            "text": "Where is it?",
        },
    )
    assert response.status_code == 200, response.json
    row = conn.execute("SELECT org_id, mailbox_id FROM messages").fetchone()
    assert (row["org_id"], row["mailbox_id"]) == (org_a.org_id, box_a.id)


def test_an_address_claimed_first_as_an_alias_has_one_owner_and_the_second_claim_fails(
    client, conn, smtp_server, attacker
):
    claimed = hijack(client, attacker, ["newaddr@example.test"])
    assert claimed.status_code == 201
    org_a = make_org(conn, "Victim A")
    response = create_mailbox(client, org_a, {"name": "New", "address": "newaddr@example.test"})
    assert_in_use(response, "address", attacker)
    assert mailboxes.find_by_address(conn, "newaddr@example.test").org_id == attacker.org_id


def test_the_accounts_api_refuses_an_address_held_as_an_alias(client, conn, victim, attacker):
    box_a = victim[1]
    conn.execute("UPDATE mailboxes SET aliases = '{sales@example.test}' WHERE id = %s", (box_a.id,))
    body = {
        "name": "Sales",
        "email": "sales@example.test",
        "host": "imap.example.test",
        "port": 993,
        "username": "sales",
        "password": "pw",
    }
    response = client.post("/api/accounts", json=body, headers=attacker.headers)
    assert response.status_code == 409, response.json
    assert response.json == {
        "success": False,
        "error": "address already in use",
        "field": "email",
    }


def test_the_database_refuses_a_second_claim_whatever_the_code_path(conn, victim, attacker):
    with pytest.raises(psycopg.errors.UniqueViolation):
        mailboxes.create(conn, attacker.org_id, "hijack@b.test", aliases=["support+x@example.test"])
    other = mailboxes.create(conn, attacker.org_id, "hijack@b.test")
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute("UPDATE mailboxes SET aliases = %s WHERE id = %s", ([A_ADDRESS], other.id))
    assert mailboxes.find_by_address(conn, "Support+Tag@Example.TEST").id == victim[1].id


def test_a_deleted_mailbox_frees_its_addresses(conn, victim, attacker):
    mailboxes.delete_account(conn, victim[0].org_id, victim[1].id)
    box = mailboxes.create(conn, attacker.org_id, "b@b.test", aliases=[A_ADDRESS])
    assert mailboxes.find_by_address(conn, A_ADDRESS).id == box.id


@pytest.mark.parametrize("alias", ["not-an-address", "a@b@c.test", "x@", ""])
def test_aliases_must_be_addresses(client, attacker, alias):
    response = hijack(client, attacker, [alias])
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == ["aliases.0"]


def test_the_cli_refuses_an_address_already_in_use(victim, attacker):
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli", "mailbox", "create", "--org",
         str(attacker.org_id), "--address", "hijack@b.test", "--alias", A_ADDRESS],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip() == "address: address already in use"
