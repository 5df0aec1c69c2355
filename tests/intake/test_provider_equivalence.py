"""Each provider's payloads, parsed and raw, become the same message as SMTP delivers."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest

from tests.helpers import run_pipeline, wait_for
from tests.intake import provider_payloads as pp

SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4


def sample_mail() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = '"Alice Example" <alice@example.org>'
    msg["To"] = "Support <support@example.com>"
    msg["Cc"] = "bob@example.org"
    msg["Subject"] = "Grüße: the printer is on fire"
    msg["Date"] = "Fri, 05 May 2023 17:44:33 -0400"
    msg["Message-ID"] = "<equivalence-1@example.org>"
    msg.set_content("Hello,\nthe printer is on fire.\nAlice\n")
    msg.add_alternative(
        '<p>Hello,</p><p>the printer is <b>on fire</b>.</p><img src="cid:logo123">',
        subtype="html",
    )
    msg.get_body(("html",)).add_related(
        PNG, "image", "png", cid="<logo123>", filename="logo.png", disposition="inline"
    )
    msg.add_attachment(b"line one\nline two\n", "text", "plain", filename="report.txt")
    msg.add_attachment(PDF, "application", "pdf", filename="invoice.pdf")
    return msg


def via_smtp(smtp_server, pool, conn, msg: EmailMessage) -> dict:
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port, timeout=10) as client:
        client.sendmail("alice@example.org", ["support@example.com"], pp.raw_of(msg))
    handed_over = "SELECT id FROM messages WHERE channel = 'smtp' AND handed_over_at IS NOT NULL"
    message_id = wait_for(lambda: conn.execute(handed_over).fetchone())["id"]
    run_pipeline(pool, message_id)
    return pp.parsed_view(conn, message_id)


def post_mailgun(client, endpoint, form):
    return client.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))


def post_sendgrid(client, endpoint, payload):
    body, ctype = pp.form_data(*payload)
    return client.post(endpoint.path, data=body, content_type=ctype, headers=pp.basic_auth("pw"))


def post_postmark(client, endpoint, payload):
    return client.post(endpoint.path, json=payload, headers=pp.basic_auth("pw"))


FORMS = {
    "mailgun parsed": ("mailgun", SIGNING_KEY, pp.mailgun_parsed, post_mailgun),
    "mailgun raw": ("mailgun", SIGNING_KEY, pp.mailgun_raw, post_mailgun),
    "sendgrid parsed": ("sendgrid", "pw", pp.sendgrid_parsed, post_sendgrid),
    "sendgrid raw": ("sendgrid", "pw", pp.sendgrid_raw, post_sendgrid),
    "postmark parsed": ("postmark", "pw", pp.postmark, post_postmark),
    "postmark raw": ("postmark", "pw", lambda m, r: pp.postmark(m, r, raw=True), post_postmark),
}


@pytest.mark.parametrize("form", FORMS)
def test_provider_payload_parses_like_the_same_mail_over_smtp(
    form, smtp_server, pool, conn, mailbox, client
):
    provider, secret, build, post = FORMS[form]
    msg = sample_mail()
    expected = via_smtp(smtp_server, pool, conn, msg)
    endpoint = pp.make_endpoint(conn, mailbox, provider, secret)

    response = post(client, endpoint, build(msg, "support@example.com"))

    assert response.status_code == 200, response.json
    message_id = response.json["id"]
    run_pipeline(pool, message_id)
    got = pp.parsed_view(conn, message_id)
    assert got == expected
    assert [a["filename"] for a in got["attachments"]] == ["invoice.pdf", "logo.png", "report.txt"]
    assert got["subject"] == "Grüße: the printer is on fire"
    assert got["message_id"] == "<equivalence-1@example.org>"


@pytest.mark.parametrize("form", FORMS)
def test_provider_payload_is_stored_with_its_channel_and_envelope(form, conn, mailbox, client):
    provider, secret, build, post = FORMS[form]
    endpoint = pp.make_endpoint(conn, mailbox, provider, secret)

    response = post(client, endpoint, build(sample_mail(), "support@example.com"))

    row = conn.execute("SELECT * FROM messages WHERE id = %s", (response.json["id"],)).fetchone()
    assert row["channel"] == f"webhook:{provider}"
    assert row["state"] == "received"
    assert row["mailbox_id"] == mailbox.id
    assert row["envelope_from"] == "alice@example.org"
    assert row["envelope_to"] == ["support@example.com"]


def test_postmark_keeps_its_own_id_apart_from_the_message_id_header(pool, conn, mailbox, client):
    endpoint = pp.make_endpoint(conn, mailbox, "postmark", "pw")

    response = post_postmark(client, endpoint, pp.postmark(sample_mail(), "support@example.com"))

    run_pipeline(pool, response.json["id"])
    row = conn.execute(
        "SELECT provider_message_id, message_id FROM messages WHERE id = %s",
        (response.json["id"],),
    ).fetchone()
    assert row["provider_message_id"] == "00000000-0000-0000-0000-000000000001"
    assert row["message_id"] == "<equivalence-1@example.org>"
