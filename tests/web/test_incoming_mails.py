"""``000_…`` Incoming mails: every example request of the seed, replayed against Intake,
plus errors, auth failures and tenancy in the family's own (Laravel) shape."""

from __future__ import annotations

import base64
import json

import pytest

from tests.helpers import accept, make_org, mfs, run_pipeline
from tests.web.family_helpers import (
    bearer,
    held_mail,
    make_customer,
    next_message_id,
    replay,
)

MAIL = mfs(f"""
    From: Alice Martin <alice@example.org>
    To: support@example.com
    Subject: Re: Fwd: Printer on fire
    Message-ID: <fire-1@example.org>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="b"

    --b
    Content-Type: text/plain; charset=utf-8

    The printer on the 2nd floor is on fire.
    --b
    Content-Type: image/png
    Content-Disposition: attachment; filename="fire.png"
    Content-Transfer-Encoding: base64

    {base64.b64encode(b"PNG-bytes").decode()}
    --b--
""")

ITEM_PROPERTIES = {
    "id", "message_id", "sender", "recipient", "subject", "body", "ticket_id",
    "reply_to_closed_ticket", "analysis", "notified", "created_at", "updated_at",
}  # fmt: skip

# The seed's examples, one per language, as each sends its request.
JSON_HEADERS = {"Content-Type": "application/json"}
LIST_EXAMPLES = {
    "curl": ("/api/v1/incoming_mails?filter=out_ticket", None),
    "python": ("/api/v1/incoming_mails", {"filter": "out_ticket"}),
    "php": ("/api/v1/incoming_mails", {"filter": "out_ticket"}),
    "javascript": ("/api/v1/incoming_mails?filter=outTicket", None),
}
TICKET_EXAMPLES = {
    "curl": {"headers": JSON_HEADERS, "data": '{"customer_id": 12}'},
    "python": {"json": {"customer_id": 12}},
    "php": {"json": {"customer_id": 12}},
    "javascript": {"headers": JSON_HEADERS, "data": json.dumps({"customer_id": 12})},
}
# Laravel's HTTP client sends an empty JSON array when ->put() has no data.
REPLY_EXAMPLES = {
    "curl": {},
    "python": {},
    "php": {"headers": JSON_HEADERS, "data": "[]"},
    "javascript": {},
}
EXAMPLES = ["curl", "python", "php", "javascript"]


@pytest.fixture
def token(org):
    return org.key.token


@pytest.fixture
def mail_87(conn, pool, settings, mailbox):
    next_message_id(conn, 87)
    return held_mail(pool, settings, MAIL, mailbox)


@pytest.fixture
def customer_12(conn, org):
    return make_customer(conn, org.org_id, 12)


ORIGINAL = mfs("""
    From: Alice Martin <alice@example.org>
    To: support@example.com
    Subject: Printer on fire
    Message-ID: <fire-0@example.org>

    Smoke comes out of the printer.
""")
# Mail 87 as a reply in that thread.
REPLY = MAIL.replace(
    b"Message-ID: <fire-1@example.org>",
    b"Message-ID: <fire-1@example.org>\r\nIn-Reply-To: <fire-0@example.org>",
)


@pytest.fixture
def closed_ticket(client, conn, pool, org, mailbox):
    """A ticket the pipeline opened, then closed by an agent with a pending closure, in an
    organization that holds replies to closed tickets."""
    run_pipeline(pool, accept(pool, ORIGINAL, mailbox))
    ticket_id = conn.execute("SELECT ticket_id FROM messages").fetchone()["ticket_id"]
    closed = client.patch(
        f"/api/tickets/{ticket_id}", json={"status": "closed"}, headers=org.headers
    )
    assert closed.status_code == 200, closed.json
    policy = client.patch(
        "/api/organization", json={"closed_reply_policy": "hold"}, headers=org.headers
    )
    assert policy.status_code == 200, policy.json
    conn.execute(
        "UPDATE tickets SET pending_closure_at = now() + interval '1 day' WHERE id = %s",
        (ticket_id,),
    )
    return ticket_id


@pytest.fixture
def mail_87_on_closed_ticket(conn, pool, mailbox, closed_ticket):
    """Mail 87 answers the closed ticket and the pipeline holds it (no SQL shortcut)."""
    next_message_id(conn, 87)
    run_pipeline(pool, accept(pool, REPLY, mailbox))
    return 87


@pytest.mark.parametrize("example", EXAMPLES)
def test_list_example_returns_held_mail_with_exactly_the_documented_properties(
    client, token, mail_87, example
):
    path, params = LIST_EXAMPLES[example]
    response = client.get(path, query_string=params, headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert [m["id"] for m in body["data"]] == [87]
    item = body["data"][0]
    assert set(item) == ITEM_PROPERTIES
    assert item["message_id"] == "<fire-1@example.org>"
    assert item["sender"] == "alice@example.org"
    assert item["recipient"] == "support@example.com"
    assert item["subject"] == "Re: Fwd: Printer on fire"
    assert item["body"] == "The printer on the 2nd floor is on fire."  # LF, no stray CR
    assert item["ticket_id"] is None
    assert item["reply_to_closed_ticket"] is False
    assert json.loads(item["analysis"])["ticket"] == {"outcome": "held"}
    assert item["notified"] is False
    assert item["created_at"].endswith("Z")
    assert set(body["links"]) == {"first", "last", "prev", "next"}
    assert body["meta"]["current_page"] == 1
    assert body["meta"]["per_page"] == 100
    assert body["meta"]["total"] == 1
    assert body["meta"]["path"].endswith("/api/v1/incoming_mails")


def test_out_ticket_lists_only_mail_without_a_ticket(client, token, conn, org, mailbox, mail_87):
    from pipeline.store import tickets

    ticket_id = tickets.create(
        conn, org.org_id, subject="Printer", contact_id=None, mailbox_id=mailbox.id,
        source_message_id=None,
    )  # fmt: skip
    conn.execute(
        "UPDATE messages SET ticket_id = %s, state = 'done' WHERE id = %s", (ticket_id, mail_87)
    )
    response = client.get("/api/v1/incoming_mails?filter=out_ticket", headers=bearer(token))
    assert response.json["data"] == []
    assert response.json["meta"]["total"] == 0
    everything = client.get("/api/v1/incoming_mails", headers=bearer(token)).json
    assert [m["id"] for m in everything["data"]] == [87]


def test_a_reply_held_by_the_closed_ticket_policy_is_listed_until_converted(
    client, token, mail_87_on_closed_ticket
):
    response = client.get(
        "/api/v1/incoming_mails?filter=reply_to_closed_ticket", headers=bearer(token)
    )
    [item] = response.json["data"]
    assert item["id"] == 87
    assert item["reply_to_closed_ticket"] is True
    assert item["ticket_id"] is None  # set when the mail is converted, as documented
    held = json.loads(item["analysis"])
    assert held["ticket"]["outcome"] == "held"
    assert held["ticket"]["reason"] == "reply_to_closed_ticket"


def test_list_is_paginated_by_100_in_laravels_shape(client, token, conn, org, mailbox):
    from pipeline.store import blobs

    digest = blobs.put(conn, b"raw")
    conn.execute(
        """INSERT INTO messages (org_id, mailbox_id, channel, raw_sha256, raw_size, state)
           SELECT %s, %s, 'smtp', %s, 3, 'held' FROM generate_series(1, 101)""",
        (org.org_id, mailbox.id, digest),
    )
    first = client.get("/api/v1/incoming_mails?filter=out_ticket", headers=bearer(token)).json
    assert len(first["data"]) == 100
    assert first["meta"] | {"links": None} == {
        "current_page": 1,
        "from": 1,
        "last_page": 2,
        "links": None,
        "path": "http://localhost/api/v1/incoming_mails",
        "per_page": 100,
        "to": 100,
        "total": 101,
    }
    assert first["links"]["prev"] is None
    assert (
        first["links"]["next"] == "http://localhost/api/v1/incoming_mails?filter=out_ticket&page=2"
    )
    second = client.get(first["links"]["next"], headers=bearer(token)).json
    assert len(second["data"]) == 1
    assert second["meta"]["from"] == 101
    assert second["links"]["next"] is None
    ids = {m["id"] for m in first["data"]} | {m["id"] for m in second["data"]}
    assert len(ids) == 101


@pytest.mark.parametrize("example", EXAMPLES)
def test_delete_example_answers_201_then_404(client, token, conn, mail_87, example):
    response = client.delete("/api/v1/incoming_mails/87", headers=bearer(token))
    assert response.status_code == 201
    assert response.json == {"message": "Incoming mail deleted successfully."}
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0
    again = client.delete("/api/v1/incoming_mails/87", headers=bearer(token))
    assert again.status_code == 404
    assert again.json == {"message": "Incoming mail not found"}


@pytest.mark.parametrize("example", EXAMPLES)
def test_convert_to_ticket_example_opens_the_ticket(
    client, token, conn, org, mail_87, customer_12, example
):
    response = replay(
        client, "PUT", "/api/v1/incoming_mails/87/ticket", token, **TICKET_EXAMPLES[example]
    )
    assert response.status_code == 201
    ticket = response.json
    assert ticket["customer_id"] == 12
    assert ticket["contact"]["email"] == "alice@example.org"
    assert ticket["status"] == "new"
    mail = conn.execute("SELECT * FROM messages WHERE id = 87").fetchone()
    assert mail["ticket_id"] == ticket["id"]
    assert mail["state"] == "done"
    assert mail["stage"] is None
    assert mail["reply_to_closed_ticket"] is False
    assert mail["analysis"]["conversion"]["action"] == "ticket"
    attachment = conn.execute("SELECT ticket_id, ticket_message_id FROM attachments").fetchone()
    assert attachment["ticket_id"] == ticket["id"]
    assert attachment["ticket_message_id"] is not None
    contact = conn.execute("SELECT customer_id FROM contacts").fetchone()
    assert contact["customer_id"] == 12
    listed = client.get("/api/v1/incoming_mails?filter=out_ticket", headers=bearer(token))
    assert listed.json["data"] == []


def test_converting_twice_keeps_one_ticket(client, token, conn, mail_87, customer_12):
    first = client.put(
        "/api/v1/incoming_mails/87/ticket", headers=bearer(token), json={"customer_id": 12}
    )
    second = client.put(
        "/api/v1/incoming_mails/87/ticket", headers=bearer(token), json={"customer_id": 12}
    )
    assert second.status_code == 201
    assert second.json["id"] == first.json["id"]
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM ticket_messages").fetchone()["n"] == 1


def test_convert_a_reply_to_a_closed_ticket_into_a_new_ticket_clears_the_flag(
    client, token, conn, mail_87_on_closed_ticket, closed_ticket, customer_12
):
    response = client.put(
        "/api/v1/incoming_mails/87/ticket", headers=bearer(token), json={"customer_id": 12}
    )
    assert response.status_code == 201
    assert response.json["id"] != closed_ticket
    mail = conn.execute(
        "SELECT ticket_id, reply_to_closed_ticket FROM messages WHERE id = 87"
    ).fetchone()
    assert mail == {"ticket_id": response.json["id"], "reply_to_closed_ticket": False}


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "customer_id"), ({"customer_id": "abc"}, "customer_id"), ({"customer_id": 1.5}, "customer_id"),
     ({"customer_id": None}, "customer_id"), ({"customer_id": True}, "customer_id")],
)  # fmt: skip
def test_convert_to_ticket_without_an_integer_customer_is_a_400(
    client, token, mail_87, body, field
):
    response = client.put("/api/v1/incoming_mails/87/ticket", headers=bearer(token), json=body)
    assert response.status_code == 400
    assert field in response.json["errors"]
    assert response.json["message"]


def test_convert_to_ticket_with_unknown_mail_or_customer_is_a_404(
    client, token, mail_87, customer_12
):
    unknown_customer = client.put(
        "/api/v1/incoming_mails/87/ticket", headers=bearer(token), json={"customer_id": 13}
    )
    assert unknown_customer.status_code == 404
    assert unknown_customer.json["message"] == "Customer not found"
    unknown_mail = client.put(
        "/api/v1/incoming_mails/88/ticket", headers=bearer(token), json={"customer_id": 12}
    )
    assert unknown_mail.status_code == 404
    assert unknown_mail.json["message"] == "Incoming mail not found"


@pytest.mark.parametrize("example", EXAMPLES)
def test_reply_example_adds_the_held_reply_to_the_closed_ticket_its_thread_matched(
    client, token, conn, org, mail_87_on_closed_ticket, closed_ticket, example
):
    conn.execute(
        "INSERT INTO webhooks (org_id, url, events) VALUES (%s, 'https://hooks.example.com/', %s)",
        (org.org_id, ["ticket.replied"]),
    )
    response = replay(
        client, "PUT", "/api/v1/incoming_mails/87/reply", token, **REPLY_EXAMPLES[example]
    )
    assert response.status_code == 201, response.json
    reply = response.json
    assert reply["ticket_id"] == closed_ticket
    assert reply["email_id"] == 87
    assert reply["from_address"] == "alice@example.org"
    assert "on fire" in reply["body_text"]
    assert reply["attachments"][0]["filename"] == "fire.png"
    ticket = conn.execute("SELECT * FROM tickets WHERE id = %s", (closed_ticket,)).fetchone()
    assert ticket["exchange_count"] == 2
    assert ticket["pending_closure_at"] is None
    assert ticket["status"] == "reply"
    assert reply["ticket"]["status"] == "reply"
    assert conn.execute("SELECT count(*) AS n FROM contacts").fetchone()["n"] == 1
    events = conn.execute(
        "SELECT kind FROM tracking_events WHERE ticket_id = %s AND message_id = 87 ORDER BY id",
        (closed_ticket,),
    )
    assert [e["kind"] for e in events] == ["reopened", "replied"]
    raised = conn.execute("SELECT type, payload FROM webhook_events").fetchall()
    assert [(e["type"], e["payload"]["ticket_id"]) for e in raised] == [
        ("ticket.replied", closed_ticket)
    ]
    mail = conn.execute(
        "SELECT state, ticket_id, reply_to_closed_ticket FROM messages WHERE id = 87"
    ).fetchone()
    assert mail == {"state": "done", "ticket_id": closed_ticket, "reply_to_closed_ticket": False}
    listed = client.get(
        "/api/v1/incoming_mails?filter=reply_to_closed_ticket", headers=bearer(token)
    )
    assert listed.json["data"] == []

    again = client.put("/api/v1/incoming_mails/87/reply", headers=bearer(token))
    assert again.status_code == 201
    assert again.json["id"] == reply["id"]
    on_ticket = conn.execute("SELECT count(*) AS n FROM ticket_messages WHERE message_id = 87")
    assert on_ticket.fetchone()["n"] == 1
    ticket = conn.execute("SELECT exchange_count FROM tickets WHERE id = %s", (closed_ticket,))
    assert ticket.fetchone()["exchange_count"] == 2
    assert conn.execute("SELECT count(*) AS n FROM webhook_events").fetchone()["n"] == 1


def test_reply_without_a_ticket_or_mail_is_a_404(client, token, mail_87):
    no_ticket = client.put("/api/v1/incoming_mails/87/reply", headers=bearer(token))
    assert no_ticket.status_code == 404
    assert no_ticket.json["message"] == "Ticket not found"
    no_mail = client.put("/api/v1/incoming_mails/999/reply", headers=bearer(token))
    assert no_mail.status_code == 404


def test_missing_or_wrong_token_is_a_401_in_laravels_shape(client, org, mail_87):
    for headers in ({}, bearer("nope"), bearer(f"{org.key.key}.wrong")):
        response = client.get("/api/v1/incoming_mails", headers=headers)
        assert response.status_code == 401
        assert response.json == {"message": "Unauthenticated."}


def test_a_read_only_token_cannot_delete_or_convert(client, conn, mail_87):
    reader = make_org(conn, "Reader", scopes=("read",))
    conn.execute(
        "UPDATE api_keys SET org_id = (SELECT org_id FROM messages WHERE id = 87) WHERE id = %s",
        (reader.key.id,),
    )
    assert client.get("/api/v1/incoming_mails", headers=bearer(reader.key.token)).status_code == 200
    for method, path in (
        ("delete", "/api/v1/incoming_mails/87"),
        ("put", "/api/v1/incoming_mails/87/reply"),
    ):
        response = getattr(client, method)(path, headers=bearer(reader.key.token))
        assert response.status_code == 403
        assert set(response.json) == {"message"}


def test_another_organization_sees_and_touches_none_of_it(client, conn, mail_87, customer_12):
    other = make_org(conn, "Globex")
    make_customer(conn, other.org_id, 40)
    headers = bearer(other.key.token)
    assert client.get("/api/v1/incoming_mails", headers=headers).json["data"] == []
    assert client.delete("/api/v1/incoming_mails/87", headers=headers).status_code == 404
    assert (
        client.put(
            "/api/v1/incoming_mails/87/ticket", headers=headers, json={"customer_id": 40}
        ).status_code
        == 404
    )
    assert client.put("/api/v1/incoming_mails/87/reply", headers=headers).status_code == 404
    assert conn.execute("SELECT state FROM messages WHERE id = 87").fetchone()["state"] == "held"


def test_unknown_paths_and_methods_answer_in_the_familys_shape(client, token):
    missing = client.get("/api/v1/incoming_mails/abc", headers=bearer(token))
    assert missing.status_code == 404
    assert set(missing.json) == {"message"}
    wrong = client.post("/api/v1/incoming_mails", headers=bearer(token))
    assert wrong.status_code == 405
    assert set(wrong.json) == {"message"}


def test_deleting_a_converted_mail_keeps_the_tickets_attachments(
    client, token, conn, mail_87, customer_12
):
    client.put("/api/v1/incoming_mails/87/ticket", headers=bearer(token), json={"customer_id": 12})
    assert client.delete("/api/v1/incoming_mails/87", headers=bearer(token)).status_code == 201
    kept = conn.execute("SELECT message_id, ticket_id FROM attachments").fetchall()
    assert len(kept) == 1
    assert kept[0]["message_id"] is None
    assert kept[0]["ticket_id"] is not None
