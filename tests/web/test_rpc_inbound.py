"""``001_…`` ``POST /api/rpc/tickets/email/inbound``: processed at once, tenancy by address."""

from __future__ import annotations

import pytest

from tests.files import Reply
from tests.intake import provider_payloads as pp

PATH = "/api/rpc/tickets/email/inbound"
PDF = b"%PDF-1.4\n" + bytes(range(256))


def files(path: str) -> Reply:
    if path == "/missing":
        return Reply(status=404)
    return Reply(b"x" * 5000 if path == "/big.bin" else PDF, "application/pdf")


@pytest.fixture
def files_url(serve_files):
    return serve_files(files)


def inbound(org, **changes) -> dict:
    return {
        "organizationId": str(org.org_id),
        "from": "Alice <alice@example.org>",
        "to": "support@example.com",
        "subject": "Printer on fire",
        "text": "Please help.",
        "html": "<p>Please help.</p>",
        "messageId": "rpc-1@example.org",
    } | changes


def test_new_mail_opens_a_ticket_and_names_it(client, conn, org, mailbox):
    response = client.post(PATH, json=inbound(org))
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"success", "ticketId", "messageId"}
    assert body["success"] is True
    row = conn.execute("SELECT * FROM messages WHERE id = %s", (int(body["messageId"]),)).fetchone()
    assert row["channel"] == "webhook:generic"
    assert row["ticket_id"] == int(body["ticketId"])
    assert row["message_id"] == "<rpc-1@example.org>"
    assert row["subject"] == "Printer on fire"
    assert row["body_html"].startswith("<p>Please help.</p>")


def test_a_reply_by_in_reply_to_lands_on_the_same_ticket(client, org, mailbox):
    first = client.post(PATH, json=inbound(org)).json
    reply = client.post(
        PATH,
        json=inbound(
            org,
            messageId="rpc-2@example.org",
            inReplyTo="<rpc-1@example.org>",
            references="<rpc-1@example.org>",
            subject="Re: Printer on fire",
        ),
    ).json
    assert reply["ticketId"] == first["ticketId"]
    assert reply["messageId"] != first["messageId"]


def test_attachments_are_fetched_by_url(client, conn, org, mailbox, files_url):
    attachments = [
        {"filename": "invoice.pdf", "contentType": "application/pdf", "url": f"{files_url}/i"}
    ]
    response = client.post(PATH, json=inbound(org, attachments=attachments))
    assert response.status_code == 200, response.json
    row = conn.execute(
        "SELECT a.filename, a.mime_type, b.data FROM attachments a "
        "JOIN blobs b ON b.sha256 = a.blob_sha256"
    ).fetchone()
    assert (row["filename"], row["mime_type"], bytes(row["data"])) == (
        "invoice.pdf",
        "application/pdf",
        PDF,
    )


def test_attachment_urls_on_private_addresses_are_refused(app, conn, org, mailbox, files_url):
    attachments = [{"url": f"{files_url}/i"}]
    with pp.overridden(app, fetch_allow_private=False) as guarded:
        response = guarded.post(PATH, json=inbound(org, attachments=attachments))
    pp.assert_refused(response, 422, "attachments.0.url", conn)


def test_an_attachment_url_that_is_not_http_is_refused(client, conn, org, mailbox):
    response = client.post(PATH, json=inbound(org, attachments=[{"url": "file:///etc/passwd"}]))
    pp.assert_refused(response, 422, "attachments.0.url", conn)


def test_an_attachment_that_cannot_be_fetched_is_502(client, conn, org, mailbox, files_url):
    response = client.post(PATH, json=inbound(org, attachments=[{"url": f"{files_url}/missing"}]))
    pp.assert_refused(response, 502, "attachments.0.url", conn)


def test_attachments_over_the_size_limit_are_413(app, conn, org, mailbox, files_url):
    attachments = [{"url": f"{files_url}/big.bin"}]
    with pp.overridden(app, max_message_bytes=4000) as small:
        response = small.post(PATH, json=inbound(org, attachments=attachments))
    pp.assert_refused(response, 413, "attachments.0.url", conn)


def test_a_declared_size_over_the_limit_is_413_without_fetching(app, conn, org, mailbox):
    attachments = [{"url": "http://203.0.113.1/never-fetched", "size": 10_000}]
    with pp.overridden(app, max_message_bytes=4000) as small:
        response = small.post(PATH, json=inbound(org, attachments=attachments))
    pp.assert_refused(response, 413, "attachments.0.url", conn)


def test_an_unknown_organization_is_refused_as_any_other_call(client, conn, org, mailbox):
    response = client.post(
        PATH, json=inbound(org, organizationId="00000000-0000-0000-0000-000000000000")
    )
    pp.assert_refused(response, 403, None, conn)


def test_mail_to_another_organizations_mailbox_is_refused(client, conn, org, mailbox):
    from pipeline.store import mailboxes
    from tests.helpers import make_org

    other = make_org(conn, "Globex")
    mailboxes.create(conn, other.org_id, "help@globex.test")
    response = client.post(PATH, json=inbound(org, to="help@globex.test"))
    pp.assert_refused(response, 403, None, conn)


def test_mail_to_an_unknown_address_is_refused(client, conn, org, mailbox):
    response = client.post(PATH, json=inbound(org, to="nobody@example.com"))
    pp.assert_refused(response, 403, None, conn)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"organizationId": "not-a-uuid"}, "organizationId"),
        ({"from": None}, "from"),
        ({"from": "not an address"}, "from"),
        ({"to": 12}, "to"),
        ({"attachments": [{"filename": "a.pdf"}]}, "attachments.0.url"),
        ({"attachments": [{"url": "http://x.test/a", "size": -1}]}, "attachments.0.size"),
    ],
)
def test_bad_fields_are_422_naming_the_field(client, conn, org, mailbox, changes, field):
    body = {k: v for k, v in inbound(org, **changes).items() if v is not None}
    pp.assert_refused(client.post(PATH, json=body), 422, field, conn)


def test_a_body_that_is_not_json_is_400(client, conn, org, mailbox):
    response = client.post(PATH, data="{oops", content_type="application/json")
    pp.assert_refused(response, 400, None, conn)


def test_a_discarded_mail_answers_success_with_nulls(app, conn, org, mailbox):
    from pipeline.store.blobs import put
    from web.hooks import rpc

    digest = put(conn, b"x")
    row = conn.execute(
        """INSERT INTO messages (org_id, mailbox_id, channel, raw_sha256, raw_size, state)
           VALUES (%s, %s, 'webhook:generic', %s, 1, 'discarded') RETURNING id""",
        (org.org_id, mailbox.id, digest),
    ).fetchone()
    with app.test_request_context():
        assert rpc.outcome(row["id"]) == {"ticketId": None, "messageId": None}


def test_a_held_mail_answers_its_message_and_no_ticket(app, conn, org, mailbox):
    from pipeline.store.blobs import put
    from web.hooks import rpc

    digest = put(conn, b"x")
    row = conn.execute(
        """INSERT INTO messages (org_id, mailbox_id, channel, raw_sha256, raw_size, state)
           VALUES (%s, %s, 'webhook:generic', %s, 1, 'held') RETURNING id""",
        (org.org_id, mailbox.id, digest),
    ).fetchone()
    with app.test_request_context():
        assert rpc.outcome(row["id"]) == {"ticketId": None, "messageId": str(row["id"])}


def test_openapi_describes_every_webhook_endpoint(client):
    paths = client.get("/openapi.json").json["paths"]
    expected = {
        "/api/rpc/tickets/email/inbound",
        "/hooks/inbound/{provider}/{token}",
        "/mail-report",
        *(f"/mg-{name}" for name in ("delivered", "opened", "clicked", "complained")),
        "/mg-permanent-fail",
        "/mg-temporary-fail",
    }
    assert expected <= set(paths)


def test_a_resent_message_is_a_duplicate_that_names_the_original_ticket(client, conn, org, mailbox):
    first = client.post(PATH, json=inbound(org)).json
    again = client.post(PATH, json=inbound(org)).json
    assert again["success"] is True
    assert again["ticketId"] == first["ticketId"]
    state = conn.execute(
        "SELECT state FROM messages WHERE id = %s", (int(again["messageId"]),)
    ).fetchone()
    assert state["state"] == "duplicate"
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1
