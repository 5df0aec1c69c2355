"""The whole story of a support conversation, through real SMTP, workers, PostgreSQL, Redis,
an SMTP relay and a webhook receiver (issue 3's acceptance test)."""

from __future__ import annotations

import json
import smtplib
from email import message_from_bytes, policy

from tests.helpers import mfs, relay_and_webhook, wait_for

SECRET = "whsec_conversation"
EVENTS = ["email.received", "ticket.created", "ticket.replied"]


def send(server, sender: str, rcpt: str, raw: bytes, envelope_from: str | None = None) -> None:
    with smtplib.SMTP(server.hostname, server.port) as smtp:
        smtp.sendmail(envelope_from if envelope_from is not None else sender, [rcpt], raw)


def settled(conn, message_id: str) -> dict:
    return wait_for(
        lambda: conn.execute(
            """SELECT state, ticket_id, analysis FROM messages WHERE message_id = %s
               AND state NOT IN ('received', 'processing')""",
            (message_id,),
        ).fetchone()
    )


def dsn_for(original_id: str) -> bytes:
    return mfs(f"""
        From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
        To: support@example.com
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <dsn-1@mx.example.org>
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="r"

        --r
        Content-Type: text/plain

        Your message could not be delivered.
        --r
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.example.org

        Final-Recipient: rfc822; hank@example.org
        Action: failed
        Status: 5.1.1
        Diagnostic-Code: smtp; 550 5.1.1 user unknown

        --r
        Content-Type: text/rfc822-headers

        Message-ID: {original_id}
        Subject: We received your message
        --r--
    """)


def test_a_support_conversation_from_first_mail_to_bounce(
    smtp_server, worker, conn, org, mailbox, settings, smtp_sink, http_receiver
):
    relay_and_webhook(conn, org.org_id, settings, smtp_sink, http_receiver, SECRET, EVENTS)

    # 1. A new mail opens a ticket and gets one auto-reply.
    send(
        smtp_server,
        "hank@example.org",
        "support@example.com",
        mfs("""
        From: Hank <hank@example.org>
        To: support@example.com
        Subject: Cannot log in
        Message-ID: <c1@example.org>

        My password does not work.
    """),
    )
    ticket_id = settled(conn, "<c1@example.org>")["ticket_id"]
    number = conn.execute("SELECT number FROM tickets WHERE id = %s", (ticket_id,)).fetchone()
    wait_for(lambda: len(smtp_sink.messages) == 1)
    auto = message_from_bytes(smtp_sink.messages[0].data, policy=policy.default)
    reply_address = auto["Reply-To"].addresses[0].addr_spec
    assert reply_address.startswith("support+")

    # 2. Replies by the reply token alone, by headers alone, and by the subject token.
    send(
        smtp_server,
        "hank@example.org",
        reply_address,
        mfs("""
        From: hank@example.org
        To: support@example.com
        Subject: my answer
        Message-ID: <c2@example.org>

        Token only.
    """),
    )
    send(
        smtp_server,
        "hank@example.org",
        "support@example.com",
        mfs(f"""
        From: hank@example.org
        To: support@example.com
        Subject: something else entirely
        Message-ID: <c3@example.org>
        In-Reply-To: {auto["Message-ID"]}

        Headers only.
    """),
    )
    send(
        smtp_server,
        "hank@example.org",
        "support@example.com",
        mfs(f"""
        From: hank@example.org
        To: support@example.com
        Subject: [#{number["number"]}] one more detail
        Message-ID: <c4@example.org>

        Subject token only.
    """),
    )
    for message_id in ("<c2@example.org>", "<c3@example.org>", "<c4@example.org>"):
        assert settled(conn, message_id)["ticket_id"] == ticket_id, message_id

    # 3. A stranger quoting the ticket number gets a ticket of their own.
    send(
        smtp_server,
        "eve@example.net",
        "support@example.com",
        mfs(f"""
        From: eve@example.net
        To: support@example.com
        Subject: [#{number["number"]}] let me in
        Message-ID: <c5@example.net>

        I am not Hank.
    """),
    )
    stranger = settled(conn, "<c5@example.net>")
    assert stranger["ticket_id"] not in (None, ticket_id)

    # 4. Hank's auto-responder answers the auto-reply: no second auto-reply, no ticket.
    send(
        smtp_server,
        "hank@example.org",
        reply_address,
        mfs(f"""
        From: hank@example.org
        To: {reply_address}
        Subject: Out of office: We received your message
        Message-ID: <c6@example.org>
        Auto-Submitted: auto-replied

        I am away.
    """),
    )
    assert settled(conn, "<c6@example.org>")["state"] == "filtered"

    # 5. The auto-reply bounces: a delivery event on the sent mail.
    send(
        smtp_server,
        "MAILER-DAEMON@mx.example.org",
        "support@example.com",
        dsn_for(auto["Message-ID"]),
        envelope_from="",
    )
    settled(conn, "<dsn-1@mx.example.org>")
    event = conn.execute(
        """SELECT d.event, d.status_code, s.kind FROM delivery_events d
           JOIN sent_mails s ON s.id = d.sent_mail_id"""
    ).fetchone()
    assert event == {"event": "failed_permanent", "status_code": "5.1.1", "kind": "auto_reply"}

    # Hank got one auto-reply, Eve got hers; each webhook event arrived once, signed.
    worker.join()
    recipients = sorted(m.rcpt_tos[0] for m in smtp_sink.messages)
    assert recipients == ["eve@example.net", "hank@example.org"]
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 2
    wait_for(lambda: len(http_receiver.hits) >= 9)
    bodies = [json.loads(h.body) for h in http_receiver.hits]
    assert all(h.signature_valid for h in http_receiver.hits)
    assert len({b["id"] for b in bodies}) == len(bodies)
    kinds = sorted(h.headers["X-Intake-Event"] for h in http_receiver.hits)
    assert kinds.count("ticket.created") == 2 and kinds.count("ticket.replied") == 3
