"""``002_…`` pattern detection and rules (built-in and the organization's own)."""

from __future__ import annotations

from tests.helpers import mfs
from tests.web.native import deliver

MAIL = mfs("""
    From: Bob <bob@example.org>
    To: support@example.com
    Subject: Re: Ticket#42 and PROJ-7
    Message-ID: <p-1@example.org>
    In-Reply-To: <x@example.org>

    See #123456 and ACME-99.
""")


def test_rules_list_the_builtins_in_the_seed_shape_then_the_orgs_own(client, org):
    created = client.post(
        "/api/patterns/rules",
        json={"key": "acme", "name": "Acme", "format": r"ACME-\d+"},
        headers=org.headers,
    )
    assert created.status_code == 201
    rules = client.get("/api/patterns/rules", headers=org.headers).json["data"]
    assert rules[:3] == [
        {"key": "zendesk", "name": "Zendesk Ticket", "format": "#\\d{5,}"},
        {"key": "jira", "name": "Jira Issue", "format": "[A-Z]+-\\d+"},
        {"key": "freshdesk", "name": "Freshdesk Ticket", "format": "Ticket#\\d+"},
    ]
    assert rules[3]["key"] == "acme" and rules[3]["builtin"] is False


def test_detect_returns_every_match_with_its_rule(client, org, pool, mailbox):
    client.post(
        "/api/patterns/rules",
        json={"key": "acme", "name": "Acme", "format": r"ACME-\d+"},
        headers=org.headers,
    )
    email_id = deliver(pool, mailbox, MAIL)
    data = client.post(
        "/api/patterns/detect", json={"email_id": email_id}, headers=org.headers
    ).json["data"]
    found = {(m["rule"]["key"], m["value"], m["field"]) for m in data["matches"]}
    assert {
        ("zendesk", "#123456", "body"),
        ("jira", "PROJ-7", "subject"),
        ("freshdesk", "Ticket#42", "subject"),
        ("acme", "ACME-99", "body"),
    } <= found
    assert data["thread"]["in_reply_to"] == "<x@example.org>"


def test_own_rules_are_validated_and_deletable(client, org):
    builtin = client.post(
        "/api/patterns/rules", json={"key": "jira", "name": "J", "format": "J"}, headers=org.headers
    )
    bad = client.post(
        "/api/patterns/rules", json={"key": "x", "name": "X", "format": "(["}, headers=org.headers
    )
    assert (builtin.status_code, builtin.json["field"]) == (409, "key")
    assert (bad.status_code, bad.json["field"]) == (422, "format")
    rule = client.post(
        "/api/patterns/rules", json={"key": "x", "name": "X", "format": "X-1"}, headers=org.headers
    )
    again = client.post(
        "/api/patterns/rules", json={"key": "x", "name": "X", "format": "X-1"}, headers=org.headers
    )
    assert again.status_code == 409
    rule_id = rule.json["data"]["id"]
    assert client.delete(f"/api/patterns/rules/{rule_id}", headers=org.headers).status_code == 200
    assert client.delete(f"/api/patterns/rules/{rule_id}", headers=org.headers).status_code == 404


def test_detect_in_an_unknown_email_is_404_naming_the_field(client, org):
    response = client.post("/api/patterns/detect", json={"email_id": 5}, headers=org.headers)
    assert (response.status_code, response.json["field"]) == (404, "email_id")
