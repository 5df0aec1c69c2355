"""Every native endpoint, called with another organization's ids, answers 404 and no data."""

from __future__ import annotations

import json

import pytest

from tests.helpers import make_org
from tests.web.native import build_world

#: request bodies that pass validation, so that only the ownership check can refuse them
BODIES = {
    ("PATCH", "/api/emails/<int:email_id>"): {"is_read": True, "categories": []},
    ("PATCH", "/api/categories/<int:category_id>"): {"name": "Mine"},
    ("PUT", "/api/categories/<int:category_id>"): {"name": "Mine"},
    ("POST", "/api/categories/<int:category_id>/rules"): {
        "field": "subject",
        "operator": "contains",
        "value": "x",
    },
    ("PATCH", "/api/categories/<int:category_id>/rules/<int:rule_id>"): {"value": "y"},
    ("PUT", "/api/categories/<int:category_id>/rules/<int:rule_id>"): {"value": "y"},
    ("PATCH", "/api/tickets/<int:ticket_id>"): {"status": "closed", "tags": ["x"]},
    ("POST", "/api/tickets/<int:ticket_id>/notes"): {"body_text": "note"},
    ("PATCH", "/api/contacts/<int:contact_id>"): {"name": "Mallory"},
    ("PATCH", "/api/customers/<int:customer_id>"): {"name": "Mallory"},
    ("PUT", "/api/customers/<int:customer_id>"): {"name": "Mallory"},
    ("PATCH", "/api/agents/<int:agent_id>"): {"name": "Mallory"},
    ("PUT", "/api/agents/<int:agent_id>"): {"name": "Mallory"},
}

#: path parameters whose meaning depends on the path
CONTEXTUAL = {
    ("/api/categories/", "rule_id"): "category_rule_id",
    ("/api/patterns/", "rule_id"): "pattern_rule_id",
    ("/api/ignored-subjects/", "entry_id"): "ignored_subject_id",
    ("/api/excluded-emails/", "entry_id"): "excluded_email_id",
}

#: list endpoints with a filter naming another organization's row
FILTERED_LISTS = [
    ("/api/emails?account_id={account_id}", 404),
    ("/api/emails/stats?account_id={account_id}", 404),
    ("/api/delivery-events?sent_mail_id={sent_mail_id}", 404),
    ("/api/tickets?mailbox_id={mailbox_id}", 200),
    ("/api/tickets?contact_id={contact_id}", 200),
    ("/api/tickets?customer_id={customer_id}", 200),
    ("/api/tickets?agent_id={agent_id}", 200),
    ("/api/contacts?customer_id={customer_id}", 200),
]


def is_native(rule) -> bool:
    path = rule.rule
    return path.startswith("/api/") and not path.startswith(("/api/v1/", "/api/rpc/"))


def fill(rule, ids: dict[str, int]) -> str:
    values = {}
    for arg in rule.arguments:
        name = next(
            (v for (p, a), v in CONTEXTUAL.items() if a == arg and rule.rule.startswith(p)), arg
        )
        assert name in ids, f"{rule.rule}: no id known for <{arg}>; add it to tests/web/native.py"
        values[arg] = ids[name]
    return _substitute(rule.rule, values)


def _substitute(path: str, values: dict[str, int]) -> str:
    for name, value in values.items():
        for converter in ("int:", "string:", "path:", ""):
            path = path.replace(f"<{converter}{name}>", str(value))
    return path


@pytest.fixture
def worlds(conn, pool, org):
    victim = build_world(conn, pool, org, "support@victim.test", "Victim secret subject")
    intruder = build_world(conn, pool, make_org(conn, "Intruder"), "help@intruder.test", "Mine")
    return victim, intruder


def snapshot(conn) -> list:
    return conn.execute(
        """SELECT (SELECT json_agg(m ORDER BY id) FROM (SELECT id, is_read, is_starred, is_archived
                                                     FROM messages) m),
                  (SELECT json_agg(t ORDER BY id) FROM (SELECT id, status, tags FROM tickets) t),
                  (SELECT count(*) FROM ticket_messages), (SELECT count(*) FROM categories),
                  (SELECT count(*) FROM category_rules), (SELECT count(*) FROM pattern_rules),
                  (SELECT json_agg(a ORDER BY id) FROM (SELECT id, name, is_active FROM agents) a),
                  (SELECT json_agg(c ORDER BY id) FROM (SELECT id, name FROM customers) c),
                  (SELECT json_agg(c ORDER BY id) FROM (SELECT id, name FROM contacts) c),
                  (SELECT count(*) FROM ignored_subjects), (SELECT count(*) FROM excluded_emails),
                  (SELECT json_agg(k ORDER BY id) FROM (SELECT id, revoked_at FROM api_keys) k)"""
    ).fetchone()


def test_every_endpoint_answers_404_for_another_organizations_ids(app, client, conn, worlds):
    victim, intruder = worlds
    before = snapshot(conn)
    walked = 0
    for rule in app.url_map.iter_rules():
        if not is_native(rule) or not rule.arguments:
            continue
        path = fill(rule, victim.ids)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            body = BODIES.get(
                (method, rule.rule), {} if method in ("POST", "PUT", "PATCH") else None
            )
            response = client.open(path, method=method, json=body, headers=intruder.org.headers)
            walked += 1
            assert response.status_code == 404, (method, path, response.status_code, response.data)
            assert victim.subject.encode() not in response.data
            assert response.json["success"] is False
    assert walked >= 37
    assert snapshot(conn) == before


@pytest.mark.parametrize(("template", "status"), FILTERED_LISTS)
def test_filters_naming_another_organizations_rows_show_nothing(client, worlds, template, status):
    victim, intruder = worlds
    response = client.get(template.format(**victim.ids), headers=intruder.org.headers)
    assert response.status_code == status
    assert victim.subject.encode() not in response.data
    if status == 200:
        assert response.json["data"] == []


def test_detecting_patterns_in_another_organizations_email_is_404(client, worlds):
    victim, intruder = worlds
    response = client.post(
        "/api/patterns/detect",
        json={"email_id": victim.ids["email_id"]},
        headers=intruder.org.headers,
    )
    assert response.status_code == 404
    assert response.json["field"] == "email_id"


def test_bulk_actions_on_another_organizations_ids_report_them_unknown(client, conn, worlds):
    victim, intruder = worlds
    for action in ("star", "delete"):
        response = client.post(
            "/api/emails/bulk",
            json={"ids": [victim.ids["email_id"]], "action": action},
            headers=intruder.org.headers,
        )
        assert response.json["data"]["not_found"] == [victim.ids["email_id"]]
        assert response.json["data"]["processed"] == []
    row = conn.execute("SELECT is_starred FROM messages WHERE id = %s", (victim.ids["email_id"],))
    assert row.fetchone()["is_starred"] is False


def test_assigning_another_organizations_agent_or_category_is_refused(client, worlds):
    victim, intruder = worlds
    ticket = client.patch(
        f"/api/tickets/{intruder.ids['ticket_id']}",
        json={"agent_ids": [victim.ids["agent_id"]]},
        headers=intruder.org.headers,
    )
    assert (ticket.status_code, ticket.json["field"]) == (404, "agent_ids")
    email = client.patch(
        f"/api/emails/{intruder.ids['email_id']}",
        json={"categories": [victim.ids["category_id"]]},
        headers=intruder.org.headers,
    )
    assert (email.status_code, email.json["field"]) == (404, "categories")
    contact = client.patch(
        f"/api/contacts/{intruder.ids['contact_id']}",
        json={"customer_id": victim.ids["customer_id"]},
        headers=intruder.org.headers,
    )
    assert (contact.status_code, contact.json["field"]) == (404, "customer_id")
    assert json.dumps(contact.json).find("Acme Corp") == -1
