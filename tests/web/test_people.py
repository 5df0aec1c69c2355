"""Contacts (list, get, update), customers (create, list, get, update) and agents
(create, list, get, update, deactivate)."""

from __future__ import annotations

from tests.web.native import deliver, invoice_mail


def test_contacts_are_listed_searched_and_linked_to_a_customer(client, org, pool, mailbox):
    deliver(pool, mailbox, invoice_mail())
    contacts = client.get("/api/contacts?q=ALICE", headers=org.headers).json
    assert contacts["pagination"]["total"] == 1
    contact = contacts["data"][0]
    assert (contact["email"], contact["ticket_count"]) == ("alice@example.org", 1)
    customer = client.post(
        "/api/customers", json={"name": "Acme", "email": "it@acme.test"}, headers=org.headers
    )
    customer_id = customer.json["data"]["id"]
    updated = client.patch(
        f"/api/contacts/{contact['id']}",
        json={"customer_id": customer_id, "name": "Alice A."},
        headers=org.headers,
    )
    assert (updated.json["data"]["customer_id"], updated.json["data"]["name"]) == (
        customer_id,
        "Alice A.",
    )
    linked = client.get(f"/api/contacts?customer_id={customer_id}", headers=org.headers).json[
        "data"
    ]
    assert [c["id"] for c in linked] == [contact["id"]]
    assert (
        client.get(f"/api/contacts/{contact['id']}", headers=org.headers).json["data"]["name"]
        == "Alice A."
    )


def test_customers_are_created_listed_and_updated(client, org):
    made = client.post(
        "/api/customers", json={"name": "Globex", "external_ref": "CRM-1"}, headers=org.headers
    )
    assert made.status_code == 201
    customer_id = made.json["data"]["id"]
    assert (
        client.get("/api/customers?q=crm", headers=org.headers).json["data"][0]["id"] == customer_id
    )
    renamed = client.put(
        f"/api/customers/{customer_id}", json={"name": "Globex Corp"}, headers=org.headers
    )
    assert renamed.json["data"]["name"] == "Globex Corp"
    bad = client.post(
        "/api/customers", json={"name": "X", "email": "not-an-address"}, headers=org.headers
    )
    assert (bad.status_code, bad.json["field"]) == (422, "email")


def test_agents_are_created_unique_updated_and_deactivated(client, org):
    made = client.post(
        "/api/agents",
        json={"email": "Ann@Help.test", "name": "Ann", "external_id": "user-7"},
        headers=org.headers,
    )
    assert made.status_code == 201
    agent = made.json["data"]
    assert (agent["email"], agent["external_id"], agent["is_active"]) == (
        "ann@help.test",
        "user-7",
        True,
    )
    same_email = client.post(
        "/api/agents", json={"email": "ann@help.test", "name": "Other"}, headers=org.headers
    )
    same_user = client.post(
        "/api/agents",
        json={"email": "b@help.test", "name": "B", "external_id": "user-7"},
        headers=org.headers,
    )
    assert (same_email.status_code, same_email.json["field"]) == (409, "email")
    assert (same_user.status_code, same_user.json["field"]) == (409, "external_id")
    renamed = client.patch(
        f"/api/agents/{agent['id']}", json={"name": "Ann B."}, headers=org.headers
    )
    assert renamed.json["data"]["name"] == "Ann B."
    gone = client.post(f"/api/agents/{agent['id']}/deactivate", headers=org.headers)
    assert gone.json["data"]["is_active"] is False
    assert client.get("/api/agents?is_active=1", headers=org.headers).json["data"] == []
    assert (
        client.get(f"/api/agents/{agent['id']}", headers=org.headers).json["data"]["is_active"]
        is False
    )
