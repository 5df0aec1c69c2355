"""Filter lists (ignored subjects, excluded emails), delivery events, organization settings."""

from __future__ import annotations

import pytest

from pipeline.store import deliveries


@pytest.mark.parametrize(
    ("path", "field", "value", "stored"),
    [
        ("/api/ignored-subjects", "subject", " Out of office ", "Out of office"),
        ("/api/excluded-emails", "email", "@Spam.test", "@spam.test"),
        ("/api/excluded-emails", "email", "bot@example.org", "bot@example.org"),
    ],
)
def test_filter_lists_add_list_refuse_duplicates_and_delete(
    client, org, path, field, value, stored
):
    made = client.post(path, json={field: value}, headers=org.headers)
    assert made.status_code == 201
    assert made.json["data"][field] == stored
    twice = client.post(path, json={field: stored.upper()}, headers=org.headers)
    assert (twice.status_code, twice.json["field"]) == (409, field)
    assert [e[field] for e in client.get(path, headers=org.headers).json["data"]] == [stored]
    entry_id = made.json["data"]["id"]
    assert client.delete(f"{path}/{entry_id}", headers=org.headers).json["success"] is True
    assert client.get(path, headers=org.headers).json["data"] == []


def test_excluded_email_must_be_an_address_or_a_domain(client, org):
    response = client.post("/api/excluded-emails", json={"email": "nobody"}, headers=org.headers)
    assert (response.status_code, response.json["field"]) == (422, "email")


def test_delivery_events_filter_by_sent_mail_and_event(client, conn, org):
    sent = conn.execute(
        """INSERT INTO sent_mails (org_id, message_id, from_address, to_addresses, subject)
           VALUES (%s, '<s@intake.local>', 'a@x.test', '{b@x.test}', 'Hi') RETURNING id""",
        (org.org_id,),
    ).fetchone()["id"]
    for n, event in enumerate(("delivered", "opened")):
        deliveries.record(
            conn,
            org.org_id,
            deliveries.DeliveryEvent(event, "mailgun", f"e{n}", "<s@intake.local>"),
        )
    listed = client.get(
        f"/api/delivery-events?sent_mail_id={sent}&event=opened", headers=org.headers
    ).json
    assert [e["event"] for e in listed["data"]] == ["opened"]
    assert listed["data"][0]["sent_mail_id"] == sent
    one = client.get(f"/api/delivery-events/{listed['data'][0]['id']}", headers=org.headers)
    assert one.json["data"]["provider"] == "mailgun"
    bad = client.get("/api/delivery-events?event=exploded", headers=org.headers)
    assert (bad.status_code, bad.json["field"]) == (422, "event")


def test_organization_settings_are_read_and_changed_by_admins(client, org):
    current = client.get("/api/organization", headers=org.headers).json["data"]
    assert current["unmatched_policy"] == "create_ticket"
    changed = client.patch(
        "/api/organization",
        json={
            "unmatched_policy": "hold",
            "closed_reply_policy": "new_ticket",
            "flood_limit": 5,
            "auto_reply_enabled": True,
        },
        headers=org.headers,
    ).json["data"]
    assert (changed["unmatched_policy"], changed["closed_reply_policy"]) == ("hold", "new_ticket")
    assert (changed["flood_limit"], changed["auto_reply_enabled"]) == (5, True)
    bad = client.patch(
        "/api/organization", json={"unmatched_policy": "ignore"}, headers=org.headers
    )
    assert (bad.status_code, bad.json["field"]) == (422, "unmatched_policy")
