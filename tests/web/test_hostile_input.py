"""Hostile values on every API family get a precise 4xx with a JSON error, never a 500, and
never reach PostgreSQL (issue 16 point 9): nesting bombs, NUL characters, numbers and dates
beyond what the database or Python hold, URL ports out of range, header line breaks."""

from __future__ import annotations

import pytest

from pipeline.store import mailboxes
from tests.intake import provider_payloads as pp
from tests.web.family_helpers import bearer, make_agent

USER = "agent-1"
RPC = "/api/rpc/tickets/email/inbound"
DEEP = "[" * 100_000 + "]" * 100_000
#: Deep enough to parse, too deep for the recursive code after the parser.
NESTED = '{"a":' * 900 + "1" + "}" * 900


@pytest.fixture
def agent(conn, org):
    return make_agent(conn, org.org_id, "agent@example.com", "Agent", USER)


@pytest.fixture
def message(org, agent):
    return lambda name: f"/message/{name}/{org.key.token}/{USER}"


def error_of(response) -> str:
    """The error text of any family's envelope (native, hooks, Laravel, 003)."""
    body = response.get_json(silent=True)
    assert isinstance(body, dict), response.get_data(as_text=True)[:200]
    text = body.get("error") or body.get("message")
    assert isinstance(text, str) and text, body
    return text


def family_calls(org, message) -> list[tuple[str, str, dict[str, str]]]:
    """One JSON-taking endpoint of every family: method, path, headers."""
    return [
        ("POST", "/api/customers", org.headers),
        ("PUT", "/api/v1/incoming_mails/1/ticket", bearer(org.key.token)),
        ("POST", message("insertTicket"), {}),
        ("POST", "/api/v1/mail/mailboxes/create", bearer(org.key.token)),
        ("POST", RPC, {}),
        ("POST", "/mail-report", org.headers),
    ]


@pytest.mark.parametrize("body", [DEEP, NESTED], ids=["deep", "nested"])
def test_deeply_nested_json_is_a_400_on_every_family(client, conn, org, message, body):
    for method, path, headers in family_calls(org, message):
        response = client.open(
            path, method=method, data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 400, (path, response.get_data(as_text=True)[:300])
        assert "nested" in error_of(response), path


def test_deeply_nested_json_is_a_400_without_credentials(client):
    response = client.post(RPC, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested" in error_of(response)


def test_a_nesting_bomb_in_a_sendgrid_form_field_is_a_422(client, conn, mailbox):
    endpoint = pp.make_endpoint(conn, mailbox, "sendgrid", None)
    body, ctype = pp.form_data({"envelope": DEEP, "email": "Subject: x\r\n\r\nbody"}, None)
    response = client.post(endpoint.path, data=body, content_type=ctype)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert error_of(response)


def test_an_rpc_attachment_url_with_a_port_out_of_range_is_a_422(client, conn, org, mailbox):
    body = {
        "organizationId": str(org.org_id),
        "from": "alice@example.org",
        "to": mailbox.address,
        "subject": "Hello",
        "text": "Hi",
        "attachments": [{"url": "http://127.0.0.1:99999/x.pdf"}],
    }
    response = client.post(RPC, json=body)
    assert response.status_code == 422, response.json
    assert response.json["field"] == "attachments.0.url"


@pytest.mark.parametrize(
    "url", ["http://[::1/x", "http://a\x00b.test/x", "http://" + "a" * 300 + ".test/x"]
)
def test_malformed_rpc_attachment_urls_are_a_422(client, org, mailbox, url):
    body = {
        "organizationId": str(org.org_id),
        "from": "alice@example.org",
        "to": mailbox.address,
        "subject": "Hello",
        "attachments": [{"url": url}],
    }
    response = client.post(RPC, json=body)
    assert response.status_code == 422, response.json
    assert response.json["field"] == "attachments.0.url"


@pytest.mark.parametrize(
    "query",
    [
        "fromEmail=a%00b",
        "label=x%00",
        "status=new&updatedAfter=2024-01-01%00",
        "a%00b=1",
    ],
)
def test_nul_in_a_003_query_value_is_a_422(client, message, query):
    response = client.get(f"{message('listTickets')}?{query}")
    assert response.status_code == 422, response.json
    assert response.json["result"] == "error"


@pytest.mark.parametrize(
    "path",
    [
        "/message/listTickets/{token}%00/agent-1",
        "/message/listTickets/{token}/agent%00-1",
        "/message/grabTicket/{token}/agent-1/1%00",
        "/api/send/status/%00",
        "/api/send/status/abc%00def",
    ],
)
def test_nul_in_a_path_value_is_a_404(client, org, agent, path):
    headers = org.headers if path.startswith("/api/") else {}
    response = client.get(path.format(token=org.key.token), headers=headers)
    assert response.status_code == 404, response.get_data(as_text=True)
    assert error_of(response)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("mailboxes/create", {"name": "a\x00", "address": "x@example.com"}, "name"),
        ("mailboxes/create", {"name": "Box", "address": "x\x00@example.com"}, "address"),
        ("subjects/create", {"subject": "Hello\x00"}, "subject"),
        ("excluded-emails/create", {"email": "@exa\x00mple.com"}, "email"),
        ("sent-mail/search", {"q": "\x00"}, "q"),
    ],
)
def test_nul_in_a_004_field_is_a_422_naming_it(client, org, path, body, field):
    response = client.post(f"/api/v1/mail/{path}", json=body, headers=bearer(org.key.token))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]


def test_nul_in_a_003_insert_ticket_field_is_a_422(client, message, conn, org):
    mailboxes.create(conn, org.org_id, "info@example.com", "Info")
    body = {
        "fromEmail": "john@example.org",
        "toEmail": "info@example.com",
        "subject": "Hi\x00",
        "message": "Text",
    }
    response = client.post(message("insertTicket"), json=body)
    assert response.status_code == 422, response.json
    assert response.json["result"] == "error"


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**62), "-1", "0"])
def test_a_000_page_beyond_any_list_is_a_400(client, org, page):
    response = client.get(f"/api/v1/incoming_mails?page={page}", headers=bearer(org.key.token))
    assert response.status_code == 400, response.json
    assert "page" in response.json["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "updatedBefore=9999-12-31",
        "updatedAfter=9999-12-31T23:59:59-05:00",
        "latestUpdatedBefore=9999-12-31T23:59:59.999999",
        "updatedAfter=0001-01-01T00:00:00%2B05:00",
        "cursorId=1&cursorUpdated=99999999999999999999",
        "cursorId=99999999999999999999&cursorUpdated=1",
        "cursorId=1&cursorUpdated=-99999999999999",
    ],
)
def test_003_dates_and_cursors_beyond_range_are_a_422(client, message, query):
    response = client.get(f"{message('listTickets')}?{query}")
    assert response.status_code == 422, response.json
    assert response.json["result"] == "error"


@pytest.mark.parametrize(
    "query",
    [
        "startTime=2024-01-01&endTime=9999-12-31",
        "startTime=0001-01-01T00:00:00%2B01:00&endTime=2024-01-01",
        "startTime=2024-01-01&endTime=2024-02-01&cursorId=1&cursorCreated=99999999999999999999",
        "startTime=2024-01-01&endTime=2024-02-01&cursorId=99999999999999999999&cursorCreated=1",
    ],
)
def test_003_email_feed_dates_and_cursors_beyond_range_are_a_422(client, message, query):
    response = client.get(f"{message('listTicketsEmails')}?{query}")
    assert response.status_code == 422, response.json
    assert response.json["result"] == "error"


@pytest.mark.parametrize("ticket", ["99999999999999999999", "²", "١٢"])
def test_003_ticket_ids_that_name_no_row_are_a_404(client, message, conn, org, ticket):
    response = client.get(f"{message('grabTicket')}/{ticket}")
    assert response.status_code == 404, response.json
    mailboxes.create(conn, org.org_id, "info@example.com", "Info")
    body = {
        "fromEmail": "john@example.org",
        "toEmail": "info@example.com",
        "subject": "Hi",
        "message": "Text",
        "ticketId": ticket,
    }
    inserted = client.post(message("insertTicket"), json=body)
    assert inserted.status_code == 404, inserted.json


@pytest.mark.parametrize("reference", ["99999999999999999999", "²"])
def test_send_status_of_a_reference_that_names_no_row_is_a_404(client, org, reference):
    response = client.get(f"/api/send/status/{reference}", headers=org.headers)
    assert response.status_code == 404, response.json


@pytest.mark.parametrize("brk", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\r"])
@pytest.mark.parametrize("field", ["subject", "from_name", "to", "tags"])
def test_every_line_break_in_a_send_header_is_a_422(client, org, field, brk):
    body = {"to": ["bob@example.org"], "subject": "Hello", "text": "Hi"}
    value = f"x{brk}Bcc: evil@example.org"
    body[field] = [value] if field in {"to", "tags"} else value
    response = client.post("/api/send", json=body, headers=org.headers)
    assert response.status_code == 422, response.json
    assert response.json["field"].startswith(field)


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("POST", "/api/send", {"to": ["b@example.org"], "subject": "s", "ticket_id": 2**70}, None),
        ("POST", "/api/send", {"to": ["b@example.org"], "subject": "s", "email_id": 2**70}, None),
        ("POST", "/api/send", {"to": ["b@example.org"], "subject": "s", "config_id": 2**70}, None),
        ("GET", "/api/voicemails?account_id=99999999999999999999", None, "account_id"),
    ],
)
def test_native_ids_beyond_bigint_are_a_422(client, org, method, path, body, field):
    response = client.open(path, method=method, json=body, headers=org.headers)
    assert response.status_code == 422, response.json
    assert response.json["field"] == (field or next(k for k in body if k.endswith("_id")))


@pytest.mark.parametrize(
    "path, body",
    [
        ("mailboxes/update", {"mailbox_id": 2**70}),
        ("mailboxes/delete", {"mailbox_id": 2**70}),
        ("mailboxes/set-password", {"mailbox_id": 2**70, "field": "imap_password"}),
        ("subjects/delete", {"id": 2**70}),
        ("sent-mail/show", {"id": 2**70}),
    ],
)
def test_004_ids_beyond_bigint_are_a_422(client, org, path, body):
    response = client.post(f"/api/v1/mail/{path}", json=body, headers=bearer(org.key.token))
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [next(iter(body))]


def test_000_customer_id_beyond_bigint_is_a_400(client, org):
    response = client.put(
        "/api/v1/incoming_mails/1/ticket",
        json={"customer_id": 2**70},
        headers=bearer(org.key.token),
    )
    assert response.status_code == 400, response.json
    assert "customer_id" in response.json["errors"]


@pytest.mark.parametrize("field", ["text", "html", "subject"])
def test_a_lone_surrogate_in_rpc_json_is_a_422_naming_the_field(client, conn, org, mailbox, field):
    body = {"organizationId": str(org.org_id), "from": "a@example.org", "to": mailbox.address}
    response = client.post(RPC, json=body | {field: "x\ud800"})
    assert response.status_code == 422, response.json
    assert response.json["field"] == field
    assert pp.message_count(conn) == 0


def test_a_lone_surrogate_in_a_003_insert_ticket_field_is_a_422(client, message, conn, org):
    mailboxes.create(conn, org.org_id, "info@example.com", "Info")
    body = {
        "fromEmail": "john@example.org",
        "fromName": "\udc00",
        "toEmail": "info@example.com",
        "subject": "Hi",
        "message": "Text",
    }
    response = client.post(message("insertTicket"), json=body)
    assert response.status_code == 422, response.json
    assert "Unicode" in response.json["message"]


@pytest.mark.parametrize("field", ["messageId", "inReplyTo", "references"])
def test_a_non_ascii_message_id_in_the_rpc_is_a_422(client, conn, org, mailbox, field):
    body = {"organizationId": str(org.org_id), "from": "a@example.org", "to": mailbox.address}
    response = client.post(RPC, json=body | {field: "<²@example.org>"})
    assert response.status_code == 422, response.json
    assert response.json["field"] == field
    assert pp.message_count(conn) == 0


def test_a_postmark_mail_whose_text_holds_nul_is_still_stored(client, conn, mailbox):
    from tests.intake.test_provider_equivalence import sample_mail

    endpoint = pp.make_endpoint(conn, mailbox, "postmark", None)
    payload = pp.postmark(sample_mail(), mailbox.address) | {"TextBody": "before\x00after"}
    response = client.post(endpoint.path, json=payload)
    assert response.status_code == 200, response.json
    assert pp.message_count(conn) == 1


@pytest.mark.parametrize("user", ["²", "9" * 25])
def test_a_003_user_id_that_names_no_agent_is_a_403(client, org, agent, user):
    response = client.get(f"/message/listTickets/{org.key.token}/{user}")
    assert response.status_code == 403, response.json
    assert response.json["result"] == "error"


def test_a_nul_in_a_credential_header_is_a_400(client, org):
    response = client.get("/api/tickets", headers={"X-API-Key": "a\x00b", "X-API-Secret": "s"})
    assert response.status_code == 400, response.json
    assert response.json["field"].lower() == "x-api-key"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_json_numbers_outside_standard_json_are_a_400(client, conn, pool, org, number):
    from tests.web.native import build_world

    ticket = build_world(conn, pool, org, "support@numbers.test", "N").ids["ticket_id"]
    body = '{"custom_fields": [{"title": "Weight", "value": NUMBER}]}'.replace("NUMBER", number)
    response = client.patch(
        f"/api/tickets/{ticket}", data=body, content_type="application/json", headers=org.headers
    )
    assert response.status_code == 400, response.json
    assert response.json["success"] is False


def test_a_non_ascii_mailgun_signature_is_a_406(client, conn, mailbox):
    from tests.intake.test_provider_equivalence import SIGNING_KEY, sample_mail

    endpoint = pp.make_endpoint(conn, mailbox, "mailgun", SIGNING_KEY)
    form = pp.mailgun_raw(sample_mail(), mailbox.address) | pp.mailgun_sign(SIGNING_KEY)
    response = client.post(endpoint.path, data=form | {"signature": "²"})
    assert (response.status_code, response.json["field"]) == (406, "signature")


def test_a_nul_in_a_mailgun_recipient_is_a_422(client, conn, mailbox):
    from tests.intake.test_provider_equivalence import SIGNING_KEY, sample_mail

    endpoint = pp.make_endpoint(conn, mailbox, "mailgun", SIGNING_KEY)
    form = pp.mailgun_raw(sample_mail(), mailbox.address) | pp.mailgun_sign(SIGNING_KEY)
    body, ctype = pp.form_data(form | {"recipient": "a\x00@example.com"})
    response = client.post(endpoint.path, data=body, content_type=ctype)
    assert (response.status_code, response.json["field"]) == (422, "recipient")
    assert pp.message_count(conn) == 0


@pytest.mark.parametrize(
    "change, field",
    [({"MessageID": "id\x00"}, "message_id"), ({"OriginalRecipient": "a\x00@b.test"}, "recipient")],
)
def test_a_nul_in_a_postmark_field_stored_as_text_is_a_422(client, conn, mailbox, change, field):
    from tests.intake.test_provider_equivalence import sample_mail

    endpoint = pp.make_endpoint(conn, mailbox, "postmark", None)
    response = client.post(endpoint.path, json=pp.postmark(sample_mail(), mailbox.address) | change)
    assert (response.status_code, response.json["field"]) == (422, field)
    assert pp.message_count(conn) == 0


def test_a_non_ascii_sendgrid_attachment_count_is_a_422(client, conn, mailbox):
    from tests.intake.test_provider_equivalence import sample_mail

    endpoint = pp.make_endpoint(conn, mailbox, "sendgrid", None)
    fields, _ = pp.sendgrid_parsed(sample_mail(), mailbox.address)
    body, ctype = pp.form_data(fields | {"attachments": "²"})
    response = client.post(endpoint.path, data=body, content_type=ctype)
    assert (response.status_code, response.json["field"]) == (422, "attachments")


def test_mailgun_events_with_a_non_ascii_signature_or_a_huge_timestamp_get_no_500(
    client, conn, org, mailbox
):
    from tests.web.test_delivery_events import KEY, mailgun_event, sent_mail

    pp.make_endpoint(conn, mailbox, "mailgun", KEY)
    sent_mail(conn, org.org_id)
    forged = mailgun_event("mg-delivered")
    forged["signature"]["signature"] = "²"
    refused = client.post("/mg-delivered", json=forged)
    assert (refused.status_code, refused.json["field"]) == (406, "signature")
    stored = client.post("/mg-delivered", json=mailgun_event("mg-delivered", timestamp=1e300))
    assert stored.status_code == 200, stored.json


def test_an_urlencoded_mailgun_post_with_non_ascii_text_is_stored(client, conn, mailbox):
    from tests.intake.test_provider_equivalence import SIGNING_KEY, sample_mail

    endpoint = pp.make_endpoint(conn, mailbox, "mailgun", SIGNING_KEY)
    form = pp.mailgun_raw(sample_mail(), mailbox.address) | pp.mailgun_sign(SIGNING_KEY)
    response = client.post(
        endpoint.path,
        data=form | {"sender": "zoë@example.org"},
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200, response.json
    assert pp.message_count(conn) == 1


@pytest.mark.parametrize("address", ["\U0006a4b2@example.org", "zoë@example.org", "a@exämple.org"])
def test_a_non_ascii_003_sender_address_is_a_422(client, message, conn, org, address):
    mailboxes.create(conn, org.org_id, "info@example.com", "Info")
    body = {
        "fromEmail": address,
        "toEmail": "info@example.com",
        "subject": "Hi",
        "message": "Text",
    }
    response = client.post(message("insertTicket"), json=body)
    assert response.status_code == 422, response.json
    assert "fromEmail" in response.json["message"]
