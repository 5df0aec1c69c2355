"""``002_…`` categories plus their create/update/delete and ordered rules."""

from __future__ import annotations

from tests.web.native import deliver, invoice_mail


def create(client, org, **body):
    return client.post("/api/categories", json=body, headers=org.headers)


def test_created_category_gets_a_slug_and_shows_in_the_list(client, org):
    made = create(client, org, name="Factures été", color="#AA0000")
    assert made.status_code == 201
    assert made.json["data"]["slug"] == "factures-t"
    create(client, org, name="Old", is_active=False)
    active = client.get("/api/categories", headers=org.headers).json["data"]
    every = client.get("/api/categories?active_only=0", headers=org.headers).json["data"]
    assert [c["name"] for c in active] == ["Factures été"]
    assert len(every) == 2
    assert "rules" not in active[0] and "email_count" not in active[0]


def test_duplicate_slug_is_a_409(client, org):
    create(client, org, name="Bills")
    response = create(client, org, name="Other", slug="bills")
    assert (response.status_code, response.json["field"]) == (409, "slug")


def test_rules_are_ordered_and_validated(client, org):
    category_id = create(client, org, name="Bills").json["data"]["id"]
    url = f"/api/categories/{category_id}/rules"
    first = client.post(
        url,
        json={"field": "subject", "operator": "contains", "value": "invoice"},
        headers=org.headers,
    )
    second = client.post(
        url,
        json={"field": "from", "operator": "domain", "value": "bank.test", "labels": ["bank"]},
        headers=org.headers,
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json["data"]["position"] < second.json["data"]["position"]
    bad_regex = client.post(
        url, json={"field": "body", "operator": "regex", "value": "("}, headers=org.headers
    )
    no_header = client.post(
        url, json={"field": "header", "operator": "equals", "value": "x"}, headers=org.headers
    )
    assert (bad_regex.status_code, bad_regex.json["field"]) == (422, "value")
    assert (no_header.status_code, no_header.json["field"]) == (422, "header_name")
    rule_id = first.json["data"]["id"]
    moved = client.patch(f"{url}/{rule_id}", json={"position": 99}, headers=org.headers)
    assert moved.json["data"]["position"] == 99
    detail = client.get(f"/api/categories/{category_id}", headers=org.headers).json["data"]
    assert [r["id"] for r in detail["rules"]] == [second.json["data"]["id"], rule_id]
    assert detail["email_count"] == 0
    assert client.delete(f"{url}/{rule_id}", headers=org.headers).json["success"] is True


def test_category_emails_and_stats(client, org, pool, mailbox):
    email_id = deliver(pool, mailbox, invoice_mail())
    category_id = create(client, org, name="Bills").json["data"]["id"]
    client.patch(f"/api/emails/{email_id}", json={"categories": [category_id]}, headers=org.headers)
    emails = client.get(
        f"/api/categories/{category_id}/emails?per_page=1", headers=org.headers
    ).json
    assert [e["id"] for e in emails["data"]] == [email_id]
    assert emails["pagination"]["total"] == 1
    listed = client.get("/api/categories?include_stats=1&include_rules=1", headers=org.headers).json
    assert listed["data"][0]["email_count"] == 1
    assert listed["data"][0]["rules"] == []


def test_update_and_delete_a_category(client, org):
    category_id = create(client, org, name="Bills").json["data"]["id"]
    updated = client.put(
        f"/api/categories/{category_id}",
        json={"name": "Invoices", "is_active": False},
        headers=org.headers,
    )
    assert (updated.json["data"]["name"], updated.json["data"]["is_active"]) == ("Invoices", False)
    null = client.patch(f"/api/categories/{category_id}", json={"name": None}, headers=org.headers)
    assert (null.status_code, null.json["field"]) == (422, "name")
    assert client.delete(f"/api/categories/{category_id}", headers=org.headers).json == {
        "success": True,
        "message": "Category deleted",
    }
    assert client.get(f"/api/categories/{category_id}", headers=org.headers).status_code == 404
