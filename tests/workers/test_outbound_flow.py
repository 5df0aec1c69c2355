"""End to end: a mail over SMTP opens a ticket, its sender gets one auto-reply through the
relay, and a subscriber receives each event once, verifiably signed."""

from __future__ import annotations

import json
import smtplib
from email import message_from_bytes, policy

from tests.helpers import mfs, relay_and_webhook, wait_for

SECRET = "whsec_flow"

MAIL = mfs("""
    From: Hank <hank@example.org>
    To: support@example.com
    Subject: Cannot log in
    Message-ID: <login@example.org>

    My password does not work.
""")

AUTO_RESPONSE = mfs("""
    From: Hank <hank@example.org>
    To: support@example.com
    Subject: Out of office: Cannot log in
    Message-ID: <ooo@example.org>
    Auto-Submitted: auto-replied

    I am away until Monday.
""")


def test_new_mail_gets_a_ticket_an_auto_reply_and_signed_webhooks(
    smtp_server, worker, conn, org, mailbox, settings, smtp_sink, http_receiver
):
    events = ["email.received", "ticket.created"]
    relay_and_webhook(conn, org.org_id, settings, smtp_sink, http_receiver, SECRET, events)

    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("hank@example.org", ["support@example.com"], MAIL)

    wait_for(lambda: len(smtp_sink.messages) == 1 and len(http_receiver.hits) == 2)
    reply = message_from_bytes(smtp_sink.messages[0].data, policy=policy.default)
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["In-Reply-To"] == "<login@example.org>"
    assert smtp_sink.messages[0].rcpt_tos == ["hank@example.org"]
    assert sorted(h.headers["X-Intake-Event"] for h in http_receiver.hits) == [
        "email.received",
        "ticket.created",
    ]
    assert all(h.signature_valid for h in http_receiver.hits)
    assert len({json.loads(h.body)["id"] for h in http_receiver.hits}) == 2

    # The customer's auto-responder answers the auto-reply: no second auto-reply.
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("hank@example.org", ["support@example.com"], AUTO_RESPONSE)
    wait_for(
        lambda: conn.execute(
            """SELECT 1 FROM messages WHERE message_id = '<ooo@example.org>'
               AND state IN ('done', 'filtered')"""
        ).fetchone()
    )
    worker.join()
    assert len(smtp_sink.messages) == 1
    sent = conn.execute("SELECT status, kind FROM sent_mails").fetchall()
    assert sent == [{"status": "sent", "kind": "auto_reply"}]
    first = conn.execute("SELECT notified FROM messages WHERE message_id = '<login@example.org>'")
    assert first.fetchone()["notified"] is True
