"""``POST /api/send``, status and history, against a real SMTP relay (an aiosmtpd sink)."""

from __future__ import annotations

import base64
from email import message_from_bytes, policy

import pytest

from pipeline.mail.reply_tokens import token_of, verify_token
from pipeline.outbound.send import deliver
from pipeline.store import deliveries
from tests.files import Reply
from tests.helpers import accept, make_org, mfs, relay_to, run_pipeline, wait_for

QUESTION = mfs("""
    From: Carol <carol@example.org>
    To: support@example.com
    Subject: Invoice missing
    Message-ID: <invoice@example.org>

    Where is my invoice?
""")


@pytest.fixture
def relay(conn, org, smtp_sink):
    return relay_to(conn, org.org_id, smtp_sink)


def post(client, org, **body):
    return client.post("/api/send", json=body, headers=org.headers)


def status(client, org, reference):
    response = client.get(f"/api/send/status/{reference}", headers=org.headers)
    assert response.status_code == 200, response.json
    return response.json["data"]


def parsed(received):
    return message_from_bytes(received.data, policy=policy.default)


def test_send_is_answered_at_once_and_delivered_to_the_relay_by_a_worker(
    client, org, relay, smtp_sink, worker
):
    response = post(
        client,
        org,
        to="dave@example.net",
        cc=["erin@example.net"],
        bcc="audit@example.net, audit2@example.net",
        subject="Welcome to Our Service",
        html="<p>Thank you for signing up.</p>",
        text="Thank you for signing up.",
        tags=["welcome"],
    )
    assert response.status_code == 202
    data = response.json["data"]
    assert data["status"] == "queued" and isinstance(data["id"], int)

    wait_for(lambda: status(client, org, data["id"])["status"] == "sent", timeout=15)
    [received] = smtp_sink.messages
    assert sorted(received.rcpt_tos) == [
        "audit2@example.net",
        "audit@example.net",
        "dave@example.net",
        "erin@example.net",
    ]
    mail = parsed(received)
    assert mail["Subject"] == "Welcome to Our Service"
    assert mail["Message-ID"] == data["message_id"]
    assert "Bcc" not in mail
    assert mail.get_body(("plain",)).get_content().strip() == "Thank you for signing up."

    shown = status(client, org, data["id"])
    assert shown["to"] == ["dave@example.net"] and shown["tags"] == ["welcome"]
    assert shown["sent_at"] is not None and shown["error"] is None
    assert shown["smtp_response"].startswith("250")
    assert status(client, org, data["message_id"])["id"] == data["id"]
    assert status(client, org, data["message_id"].strip("<>"))["id"] == data["id"]


def test_an_answer_to_an_email_carries_the_signed_reply_address_and_threads_back(
    client, org, relay, smtp_sink, pool, conn, mailbox, settings
):
    question_id = accept(pool, QUESTION, mailbox)
    run_pipeline(pool, question_id)
    ticket_id = conn.execute(
        "SELECT ticket_id FROM messages WHERE id = %s", (question_id,)
    ).fetchone()["ticket_id"]

    data = post(
        client,
        org,
        to="carol@example.org",
        subject="Re: Invoice missing",
        text="Attached.",
        email_id=question_id,
    ).json["data"]
    assert deliver(pool, data["id"], settings).status == "sent"

    mail = parsed(smtp_sink.messages[0])
    assert mail["In-Reply-To"] == "<invoice@example.org>"
    reply_address = mail["Reply-To"].addresses[0].addr_spec
    assert verify_token(settings.secret_key, org.org_id, token_of(reply_address)) == ticket_id
    assert status(client, org, data["id"])["ticket_id"] == ticket_id

    answer = mfs(f"""
        From: Carol <carol@example.org>
        To: {reply_address}
        Subject: Re: Invoice missing
        Message-ID: <thanks@example.org>
        In-Reply-To: {data["message_id"]}

        Got it, thanks.
    """)
    answer_id = accept(pool, answer, mailbox)
    run_pipeline(pool, answer_id)
    row = conn.execute("SELECT ticket_id FROM messages WHERE id = %s", (answer_id,)).fetchone()
    assert row["ticket_id"] == ticket_id


def test_a_permanent_relay_refusal_is_recorded_with_the_servers_reply(
    client, org, relay, smtp_sink, worker
):
    smtp_sink.answer_next("550 5.7.1 Relaying denied")
    data = post(client, org, to="dave@example.net", subject="Hi", text="Hello").json["data"]
    shown = wait_for(
        lambda: (s := status(client, org, data["id"]))["status"] == "failed" and s, timeout=15
    )
    assert shown["error"] == "550 5.7.1 Relaying denied"
    assert smtp_sink.messages == []


def test_a_temporary_relay_failure_stays_queued_and_is_sent_on_retry(
    client, org, relay, smtp_sink, pool, settings
):
    smtp_sink.answer_next("451 4.3.0 Try again later")
    data = post(client, org, to="dave@example.net", subject="Hi", text="Hello").json["data"]
    assert deliver(pool, data["id"], settings).status == "queued"
    shown = status(client, org, data["id"])
    assert shown["status"] == "queued" and shown["error"] == "451 4.3.0 Try again later"
    assert deliver(pool, data["id"], settings).status == "sent"
    shown = status(client, org, data["id"])
    assert shown["status"] == "sent" and shown["attempts"] == 2 and shown["error"] is None


@pytest.fixture
def file_server(serve_files):
    return serve_files(lambda path: Reply(b"%PDF-1.4 fetched", "application/pdf"))


def test_attachments_are_decoded_from_base64_or_fetched_by_url(
    client, org, relay, smtp_sink, pool, settings, file_server
):
    data = post(
        client,
        org,
        to="dave@example.net",
        subject="Your files",
        text="Two files.",
        attachments=[
            {"name": "notes.txt", "content": base64.b64encode(b"hello notes").decode()},
            {"name": "invoice.pdf", "url": f"{file_server}/files/invoice"},
        ],
    ).json["data"]
    deliver(pool, data["id"], settings)
    parts = {
        part.get_filename(): (part.get_content_type(), part.get_content())
        for part in parsed(smtp_sink.messages[0]).iter_attachments()
    }
    assert parts == {
        "notes.txt": ("text/plain", "hello notes"),
        "invoice.pdf": ("application/pdf", b"%PDF-1.4 fetched"),
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "Hi", "text": "x"}, "to"),
        ({"to": [], "subject": "Hi", "text": "x"}, "to"),
        ({"to": "not-an-address", "subject": "Hi", "text": "x"}, "to.0"),
        ({"to": "a@example.net", "subject": "", "text": "x"}, "subject"),
        ({"to": "a@example.net", "subject": "x" * 501, "text": "x"}, "subject"),
        ({"to": "a@example.net", "subject": "Hi"}, "text"),
        (
            {"to": "a@example.net", "cc": ["b@example.net", "oops"], "subject": "Hi", "text": "x"},
            "cc.1",
        ),
        ({"to": "a@example.net", "subject": "Hi", "text": "x", "reply_to": "r@x"}, "reply_to"),
        ({"to": "a@example.net", "subject": "Hi", "text": "x", "config_id": 999}, "config_id"),
        ({"to": "a@example.net", "subject": "Hi", "text": "x", "ticket_id": 999}, "ticket_id"),
        (
            {"to": "a@example.net", "subject": "Hi", "text": "x", "attachments": [{"name": "a"}]},
            "attachments.0",
        ),
        (
            {
                "to": "a@example.net",
                "subject": "Hi",
                "text": "x",
                "attachments": [{"name": "a.txt", "content": "not base64!"}],
            },
            "attachments.0.content",
        ),
    ],
)
def test_invalid_sends_are_a_422_naming_the_field(client, org, relay, body, field):
    response = client.post("/api/send", json=body, headers=org.headers)
    assert response.status_code == 422, response.json
    assert response.json["success"] is False and response.json["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "a@example.net\r\nBcc: victim@example.org"}, "to.0"),
        ({"subject": "Hi\r\nBcc: victim@example.org"}, "subject"),
        ({"subject": "Hi\nX-Evil: 1"}, "subject"),
        ({"from_name": "Support\r\nBcc: victim@example.org"}, "from_name"),
        ({"reply_to": "r@example.net\nBcc: victim@example.org"}, "reply_to"),
        ({"bcc": ["b@example.net\r\n"]}, "bcc.0"),
    ],
)
def test_header_injection_is_refused(client, org, relay, smtp_sink, conn, body, field):
    request = {"to": "a@example.net", "subject": "Hi", "text": "x", **body}
    response = client.post("/api/send", json=request, headers=org.headers)
    assert response.status_code == 422 and response.json["field"] == field
    assert conn.execute("SELECT count(*) AS n FROM sent_mails").fetchone()["n"] == 0


def test_sending_without_any_relay_configured_names_config_id(client, org):
    response = post(client, org, to="a@example.net", subject="Hi", text="x")
    assert response.status_code == 422 and response.json["field"] == "config_id"


def test_sending_needs_the_send_scope(client, conn, relay, org):
    reader = make_org(conn, "Readers", scopes=("read", "write"))
    conn.execute("UPDATE api_keys SET org_id = %s WHERE org_id = %s", (org.org_id, reader.org_id))
    response = post(client, reader, to="a@example.net", subject="Hi", text="x")
    assert response.status_code == 403


def test_status_shows_the_provider_events_recorded_for_the_mail(
    client, org, relay, smtp_sink, pool, conn, settings
):
    data = post(client, org, to="dave@example.net", subject="Hi", text="x").json["data"]
    deliver(pool, data["id"], settings)
    deliveries.record(
        conn,
        org.org_id,
        deliveries.DeliveryEvent(
            event="delivered",
            provider="mailgun",
            provider_event_id="ev-1",
            message_id=data["message_id"],
            recipient="dave@example.net",
        ),
    )
    shown = status(client, org, data["id"])
    assert shown["provider_status"]["event"] == "delivered"
    assert shown["brevo_status"] == shown["provider_status"]
    assert [(e["event"], e["recipient"], e["provider"]) for e in shown["events"]] == [
        ("delivered", "dave@example.net", "mailgun")
    ]


def test_status_of_an_unknown_or_foreign_mail_is_a_404(client, conn, org, relay):
    data = post(client, org, to="dave@example.net", subject="Hi", text="x").json["data"]
    other = make_org(conn, "Other")
    for reference in (data["id"], data["message_id"], "999999", "nobody@nowhere"):
        headers = other.headers
        response = client.get(f"/api/send/status/{reference}", headers=headers)
        assert response.status_code == 404


def test_history_filters_by_status_and_day_and_paginates(
    client, org, relay, smtp_sink, pool, conn, settings
):
    sent = post(client, org, to="a@example.net", subject="One", text="x").json["data"]["id"]
    deliver(pool, sent, settings)
    smtp_sink.answer_next("554 5.7.1 Rejected")
    failed = post(client, org, to="b@example.net", subject="Two", text="x").json["data"]["id"]
    deliver(pool, failed, settings)
    queued = post(client, org, to="c@example.net", subject="Three", text="x").json["data"]["id"]
    conn.execute(
        "UPDATE sent_mails SET created_at = '2024-01-15T10:30:00Z' WHERE id = %s", (queued,)
    )

    def ids(query):
        response = client.get(f"/api/send/history?{query}", headers=org.headers)
        assert response.status_code == 200, response.json
        return [m["id"] for m in response.json["data"]]

    assert ids("") == [failed, sent, queued]
    assert ids("status=sent") == [sent]
    assert ids("status=failed") == [failed]
    assert ids("since=2024-01-15&until=2024-01-15") == [queued]
    assert ids("until=2024-01-14") == []
    page = client.get("/api/send/history?per_page=2&page=2", headers=org.headers).json
    assert [m["id"] for m in page["data"]] == [queued]
    assert page["pagination"]["total"] == 3
    response = client.get("/api/send/history?status=lost", headers=org.headers)
    assert response.status_code == 422 and response.json["field"] == "status"


def test_naming_a_ticket_gives_the_mail_that_tickets_signed_reply_address(
    client, org, relay, smtp_sink, pool, conn, mailbox, settings
):
    question_id = accept(pool, QUESTION, mailbox)
    run_pipeline(pool, question_id)
    ticket_id = conn.execute(
        "SELECT ticket_id FROM messages WHERE id = %s", (question_id,)
    ).fetchone()["ticket_id"]
    data = post(
        client,
        org,
        to="carol@example.org",
        subject="About your invoice",
        text="Hello",
        ticket_id=ticket_id,
    ).json["data"]
    deliver(pool, data["id"], settings)
    mail = parsed(smtp_sink.messages[0])
    reply_address = mail["Reply-To"].addresses[0].addr_spec
    assert reply_address.startswith("support+") and reply_address.endswith("@example.com")
    assert verify_token(settings.secret_key, org.org_id, token_of(reply_address)) == ticket_id
    assert mail["In-Reply-To"] is None
