"""End to end: a mail over real SMTP becomes a ticket through real Redis workers."""

from __future__ import annotations

import smtplib

from tests.helpers import mfs, wait_for
from tests.intake import provider_payloads as pp

MAIL = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: The VPN is down
    Message-ID: <vpn-1@example.org>

    Nobody can connect.
""")

REPLY = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: Re: The VPN is down
    Message-ID: <vpn-2@example.org>
    In-Reply-To: <vpn-1@example.org>

    Still down.
""")


def test_smtp_mail_becomes_a_ticket_visible_through_the_api(
    smtp_server, worker, client, org, mailbox, conn
):
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("alice@example.org", ["support@example.com"], MAIL)

    def ticket_listed():
        data = client.get("/api/tickets", headers=org.headers).json["data"]
        return data[0] if data else None

    ticket = wait_for(ticket_listed)
    assert ticket["subject"] == "The VPN is down"

    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("alice@example.org", ["support@example.com"], REPLY)
    wait_for(
        lambda: conn.execute(
            "SELECT 1 FROM messages WHERE message_id = '<vpn-2@example.org>' AND state = 'done'"
        ).fetchone()
    )
    detail = client.get(f"/api/tickets/{ticket['id']}", headers=org.headers).json["data"]
    assert [m["body_text"].strip() for m in detail["messages"]] == [
        "Nobody can connect.",
        "Still down.",
    ]
    assert detail["exchange_count"] == 2


def test_metrics_report_messages_queues_and_stage_latency(
    smtp_server, worker, app, org, mailbox, conn
):
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("alice@example.org", ["support@example.com"], MAIL)
    wait_for(lambda: conn.execute("SELECT 1 FROM messages WHERE state = 'done'").fetchone())
    with pp.overridden(app, metrics_token="operator") as client:
        response = client.get("/metrics", headers={"Authorization": "Bearer operator"})
    text = response.get_data(as_text=True)
    assert 'intake_messages{channel="smtp",state="done"} 1' in text
    assert 'intake_queue_depth{queue="pipeline"}' in text
    assert 'intake_stage_seconds_count{stage="parse"} 1' in text
    assert 'intake_stage_seconds_bucket{stage="ticket",le="+Inf"} 1' in text
