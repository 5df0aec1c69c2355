"""A reply to a closed ticket, held by ``closed_reply_policy=hold``, converted through the
``000_…`` ``PUT /api/v1/incoming_mails/{id}/reply``: real SMTP, workers, PostgreSQL, Redis
and a webhook receiver, with no SQL shortcut between the mail and its conversion."""

from __future__ import annotations

import json
import smtplib

from tests.helpers import mfs, wait_for

SECRET = "whsec_held"


def send(server, raw: bytes) -> None:
    with smtplib.SMTP(server.hostname, server.port) as smtp:
        smtp.sendmail("alice@example.org", ["support@example.com"], raw)


def settled(conn, message_id: str) -> dict:
    return wait_for(
        lambda: conn.execute(
            """SELECT id, state, ticket_id, reply_to_closed_ticket FROM messages
               WHERE message_id = %s AND state NOT IN ('received', 'processing')""",
            (message_id,),
        ).fetchone()
    )


def test_a_held_reply_to_a_closed_ticket_is_converted_into_a_reply_on_that_ticket(
    smtp_server, worker, client, conn, org, mailbox, settings, http_receiver
):
    from pipeline import crypto
    from pipeline.store import webhooks

    http_receiver.secret = SECRET
    webhooks.create(
        conn,
        org.org_id,
        http_receiver.url(),
        ["ticket.replied"],
        crypto.encrypt(settings.secret_key, SECRET),
        True,
    )
    policy = client.patch(
        "/api/organization", json={"closed_reply_policy": "hold"}, headers=org.headers
    )
    assert policy.status_code == 200, policy.json
    send(
        smtp_server,
        mfs("""
        From: Alice <alice@example.org>
        To: support@example.com
        Subject: Printer on fire
        Message-ID: <fire-0@example.org>

        Smoke comes out of the printer.
    """),
    )
    ticket_id = settled(conn, "<fire-0@example.org>")["ticket_id"]
    closed = client.patch(
        f"/api/tickets/{ticket_id}", json={"status": "closed"}, headers=org.headers
    )
    assert closed.status_code == 200, closed.json

    send(
        smtp_server,
        mfs("""
        From: Alice <alice@example.org>
        To: support@example.com
        Subject: Re: Printer on fire
        Message-ID: <fire-1@example.org>
        In-Reply-To: <fire-0@example.org>

        Now it is on fire.
    """),
    )
    held = settled(conn, "<fire-1@example.org>")
    assert held["state"] == "held"
    token = {"Authorization": f"Bearer {org.key.token}", "Accept": "application/json"}
    listed = client.get("/api/v1/incoming_mails?filter=reply_to_closed_ticket", headers=token)
    [item] = listed.json["data"]
    assert (item["id"], item["ticket_id"], item["reply_to_closed_ticket"]) == (
        held["id"],
        None,
        True,
    )

    response = client.put(f"/api/v1/incoming_mails/{held['id']}/reply", headers=token)
    assert response.status_code == 201, response.json
    assert response.json["ticket_id"] == ticket_id
    assert response.json["body_text"] == "Now it is on fire."
    ticket = conn.execute(
        "SELECT status, exchange_count FROM tickets WHERE id = %s", (ticket_id,)
    ).fetchone()
    assert ticket == {"status": "reply", "exchange_count": 2}
    kinds = conn.execute(
        "SELECT kind FROM tracking_events WHERE ticket_id = %s ORDER BY id", (ticket_id,)
    ).fetchall()
    assert [k["kind"] for k in kinds][-2:] == ["reopened", "replied"]
    wait_for(lambda: http_receiver.hits)
    [hit] = http_receiver.hits
    assert hit.headers["X-Intake-Event"] == "ticket.replied"
    assert hit.signature_valid
    assert json.loads(hit.body)["data"]["ticket_id"] == ticket_id
