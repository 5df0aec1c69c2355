"""Tickets: filters, status and assignment as tracked actions, edits, internal notes."""

from __future__ import annotations

import pytest

from tests.web.native import deliver, invoice_mail


@pytest.fixture
def ticket_id(pool, conn, mailbox):
    deliver(pool, mailbox, invoice_mail())
    return conn.execute("SELECT id FROM tickets").fetchone()["id"]


@pytest.fixture
def agent_ids(conn, org):
    rows = conn.execute(
        """INSERT INTO agents (org_id, email, name) VALUES (%s, 'a@x.test', 'A'), (%s, 'b@x.test', 'B')
           RETURNING id""",
        (org.org_id, org.org_id),
    ).fetchall()
    return [r["id"] for r in rows]


def latest(conn) -> object:
    return conn.execute("SELECT latest_updated_at FROM tickets").fetchone()["latest_updated_at"]


def test_status_change_is_an_action_with_a_tracking_event(client, conn, org, ticket_id, agent_ids):
    before = latest(conn)
    response = client.patch(
        f"/api/tickets/{ticket_id}",
        json={"status": "closed", "acting_agent_id": agent_ids[0]},
        headers=org.headers,
    )
    assert response.json["data"]["status"] == "closed"
    assert response.json["data"]["closed_at"] is not None
    assert latest(conn) > before
    events = client.get(f"/api/tickets/{ticket_id}/events", headers=org.headers).json["data"]
    change = next(e for e in events if e["kind"] == "status_changed")
    assert change["data"] == {"from": "new", "to": "closed"}
    assert change["agent_id"] == agent_ids[0]


def test_assignment_replaces_the_agents_and_is_tracked(client, org, ticket_id, agent_ids):
    client.patch(f"/api/tickets/{ticket_id}", json={"agent_ids": agent_ids}, headers=org.headers)
    data = client.patch(
        f"/api/tickets/{ticket_id}", json={"agent_ids": [agent_ids[1]]}, headers=org.headers
    ).json["data"]
    assert data["agent_ids"] == [agent_ids[1]]
    events = client.get(f"/api/tickets/{ticket_id}/events", headers=org.headers).json["data"]
    assigned = [e["data"] for e in events if e["kind"] == "assigned"]
    assert assigned == [
        {"added": agent_ids, "removed": []},
        {"added": [], "removed": [agent_ids[0]]},
    ]
    listed = client.get(f"/api/tickets?agent_id={agent_ids[1]}", headers=org.headers).json["data"]
    assert [t["id"] for t in listed] == [ticket_id]


def test_plain_edits_do_not_move_latest_updated_at(client, conn, org, ticket_id):
    before = latest(conn)
    data = client.patch(
        f"/api/tickets/{ticket_id}",
        json={
            "labels": ["vip"],
            "tags": ["billing"],
            "notes": "Called back",
            "custom_fields": [{"title": "Order number", "value": "12345"}],
        },
        headers=org.headers,
    ).json["data"]
    assert (data["labels"], data["tags"], data["notes"]) == (["vip"], ["billing"], "Called back")
    assert data["custom_fields"] == [{"title": "Order number", "value": "12345"}]
    assert latest(conn) == before


def test_list_filters_by_status_label_mailbox_and_update_time(client, org, ticket_id, mailbox):
    client.patch(f"/api/tickets/{ticket_id}", json={"labels": ["vip"]}, headers=org.headers)

    def ids(query):
        return [
            t["id"] for t in client.get(f"/api/tickets?{query}", headers=org.headers).json["data"]
        ]

    assert ids("status=new&status=closed") == [ticket_id]
    assert ids("status=closed") == []
    assert ids("label=vip") == [ticket_id]
    assert ids("label=vip&label=other") == []
    assert ids(f"mailbox_id={mailbox.id}") == [ticket_id]
    assert ids("updated_since=2000-01-01T00:00:00Z") == [ticket_id]
    assert ids("updated_since=2999-01-01T00:00:00") == []


def test_internal_note_is_added_to_the_conversation(client, conn, org, ticket_id, agent_ids):
    before = latest(conn)
    note = client.post(
        f"/api/tickets/{ticket_id}/notes",
        json={"body_text": "Refund approved", "agent_id": agent_ids[0]},
        headers=org.headers,
    )
    assert note.status_code == 201
    assert (note.json["data"]["type"], note.json["data"]["agent_id"]) == ("internal", agent_ids[0])
    messages = client.get(f"/api/tickets/{ticket_id}", headers=org.headers).json["data"]["messages"]
    assert [m["type"] for m in messages] == ["external", "internal"]
    assert latest(conn) > before


def test_bad_updates_name_the_field(client, conn, org, ticket_id, agent_ids):
    conn.execute("UPDATE agents SET is_active = false WHERE id = %s", (agent_ids[0],))
    cases = [
        ({"status": "lost"}, 422, "status"),
        ({"agent_ids": [agent_ids[0]]}, 404, "agent_ids"),
        ({"customer_id": 999}, 404, "customer_id"),
        ({"labels": [""]}, 422, "labels"),
        ({"status": None}, 422, "status"),
    ]
    for body, status, field in cases:
        response = client.patch(f"/api/tickets/{ticket_id}", json=body, headers=org.headers)
        assert (response.status_code, response.json["field"]) == (status, field), body
