"""The public ``001_…`` RPC stays public as documented, but: an optional per-organization
secret, rate limits by client address and by organization, no auto-reply to its mail unless
the organization turns that on, and one refusal whatever was wrong (no oracle)."""

from __future__ import annotations

import base64

import pytest

from pipeline.store import mailboxes, send_configs
from tests.helpers import make_org
from tests.intake import provider_payloads as pp
from tests.web.test_rpc_inbound import PATH, inbound

SECRET_HEADER = "X-Intake-Rpc-Secret"


def issue_secret(client, org) -> str:
    answer = client.post("/api/organization/rpc-secret", headers=org.headers)
    assert answer.status_code == 201, answer.json
    assert answer.json["data"]["header"] == SECRET_HEADER
    return answer.json["data"]["rpc_secret"]


def basic(password: str) -> dict[str, str]:
    token = base64.b64encode(f"mailgun:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def test_an_organization_with_a_secret_refuses_calls_without_it(client, conn, org, mailbox):
    secret = issue_secret(client, org)
    assert client.post(PATH, json=inbound(org)).status_code == 403
    wrong = client.post(PATH, json=inbound(org), headers={SECRET_HEADER: secret + "x"})
    assert wrong.status_code == 403
    assert pp.message_count(conn) == 0
    by_header = client.post(PATH, json=inbound(org), headers={SECRET_HEADER: secret})
    by_basic_auth = client.post(
        PATH, json=inbound(org, messageId="rpc-2@example.org"), headers=basic(secret)
    )
    assert (by_header.status_code, by_basic_auth.status_code) == (200, 200)


def test_the_secret_is_stored_hashed_shown_once_and_can_be_cleared(client, conn, org, mailbox):
    secret = issue_secret(client, org)
    stored = conn.execute("SELECT rpc_secret_hash FROM organizations").fetchone()
    assert secret not in stored["rpc_secret_hash"]
    shown = client.get("/api/organization", headers=org.headers).json["data"]
    assert shown["rpc_secret_set"] is True
    assert secret not in str(shown)
    cleared = client.delete("/api/organization/rpc-secret", headers=org.headers)
    assert cleared.json["data"]["rpc_secret_set"] is False
    assert client.post(PATH, json=inbound(org)).status_code == 200


def test_only_an_admin_key_manages_the_secret(client, conn, org):
    from tests.web.test_auth import key_headers

    reader = key_headers(conn, org, ["read", "write"])
    assert client.post("/api/organization/rpc-secret", headers=reader).status_code == 403


def test_every_refusal_is_the_same_answer(client, conn, org, mailbox):
    """Unknown organization, an address not its own, unknown address, missing or wrong
    secret: one status, one body, so the RPC tells nothing about what exists."""
    other = make_org(conn, "Globex")
    mailboxes.create(conn, other.org_id, "help@globex.test")
    guarded = make_org(conn, "Initech")
    mailboxes.create(conn, guarded.org_id, "desk@initech.test")
    issue_secret(client, guarded)
    calls = [
        inbound(org, organizationId="00000000-0000-0000-0000-000000000000"),
        inbound(org, to="help@globex.test"),
        inbound(org, to="nobody@example.com"),
        inbound(guarded, to="desk@initech.test"),
    ]
    answers = [client.post(PATH, json=call) for call in calls]
    answers.append(
        client.post(
            PATH, json=inbound(guarded, to="desk@initech.test"), headers={SECRET_HEADER: "no"}
        )
    )
    assert {(a.status_code, a.get_data(as_text=True)) for a in answers} == {
        (403, answers[0].get_data(as_text=True))
    }
    assert pp.message_count(conn) == 0


def test_calls_are_limited_by_client_address_refused_ones_included(app, conn, org, mailbox):
    unknown = inbound(org, organizationId="00000000-0000-0000-0000-000000000000")
    with pp.overridden(app, rpc_address_per_minute=3) as tight:
        answers = [tight.post(PATH, json=unknown) for _ in range(3)]
        answers.append(tight.post(PATH, json=inbound(org)))
        other_client = tight.post(
            PATH, json=inbound(org), environ_base={"REMOTE_ADDR": "198.51.100.7"}
        )
    assert [a.status_code for a in answers] == [403, 403, 403, 429]
    assert answers[-1].headers["X-RateLimit-Limit"] == "3"
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert other_client.status_code == 200
    assert pp.message_count(conn) == 1


def test_calls_are_limited_by_organization_across_addresses(app, conn, org, mailbox):
    with pp.overridden(app, rpc_org_per_minute=2) as tight:
        answers = [
            tight.post(
                PATH,
                json=inbound(org, messageId=f"rpc-{i}@example.org"),
                environ_base={"REMOTE_ADDR": f"198.51.100.{i}"},
            )
            for i in range(3)
        ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert answers[-1].json["success"] is False


@pytest.fixture
def auto_replying(conn, org, mailbox):
    """The organization answers new tickets automatically (queued, never delivered here)."""
    conn.execute(
        """UPDATE organizations SET auto_reply_enabled = true, auto_reply_subject = 'Got it',
                  auto_reply_body = 'We will answer soon.', auto_reply_window_seconds = 0""",
    )
    send_configs.create_config(
        conn, org.org_id, name="relay", host="127.0.0.1", port=9, tls_mode="none",
        from_email="support@example.com", is_default=True,
    )  # fmt: skip
    return org


def auto_replies(conn) -> list:
    return conn.execute("SELECT * FROM sent_mails WHERE kind = 'auto_reply'").fetchall()


def test_rpc_mail_gets_no_auto_reply_unless_the_organization_turns_it_on(
    client, conn, auto_replying
):
    org = auto_replying
    first = client.post(PATH, json=inbound(org, **{"from": "victim@example.net"}))
    assert first.status_code == 200, first.json
    assert auto_replies(conn) == []
    analysis = conn.execute("SELECT analysis FROM messages").fetchone()["analysis"]
    assert "public RPC" in analysis["auto_reply"]["skipped"]

    patched = client.patch(
        "/api/organization", json={"rpc_auto_reply_enabled": True}, headers=org.headers
    )
    assert patched.json["data"]["rpc_auto_reply_enabled"] is True
    second = client.post(PATH, json=inbound(org, messageId="rpc-9@example.org"))
    assert second.status_code == 200
    assert [r["to_addresses"] for r in auto_replies(conn)] == [["alice@example.org"]]


def test_behind_a_trusted_proxy_clients_are_counted_by_their_forwarded_address(conn, org):
    from config import load_settings
    from web import create_app

    settings = load_settings().with_overrides(proxy_hops=1, rpc_address_per_minute=1)
    behind_proxy = create_app(settings).test_client()
    unknown = inbound(org, organizationId="00000000-0000-0000-0000-000000000000")
    statuses = [
        behind_proxy.post(PATH, json=unknown, headers={"X-Forwarded-For": client}).status_code
        for client in ("198.51.100.1", "198.51.100.2", "198.51.100.1")
    ]
    assert statuses == [403, 403, 429]
