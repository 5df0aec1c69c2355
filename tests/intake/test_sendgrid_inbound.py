"""SendGrid Inbound Parse: per-field charsets, basic auth, and malformed posts refused."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_pipeline
from tests.intake import provider_payloads as pp
from tests.intake.test_provider_equivalence import sample_mail

RECIPIENT = "support@example.com"


@pytest.fixture
def endpoint(conn, mailbox):
    return pp.make_endpoint(conn, mailbox, "sendgrid", "pw")


def post(client, endpoint, fields, files=None, password="pw"):
    body, ctype = pp.form_data(fields, files)
    headers = pp.basic_auth(password) if password else {}
    return client.post(endpoint.path, data=body, content_type=ctype, headers=headers)


def test_fields_are_decoded_in_the_charsets_sendgrid_names(client, pool, conn, endpoint):
    fields, _ = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    fields |= {
        "subject": "Grüße aus Köln".encode("iso-8859-1"),
        "text": "Prix : 12 € TTC, merci.\n".encode("cp1252"),
        "html": "<p>Żółć</p>".encode("iso-8859-2"),
        "charsets": json.dumps(
            {"subject": "iso-8859-1", "text": "windows-1252", "html": "iso-8859-2"}
        ),
        "attachments": "0",
    }
    response = post(client, endpoint, fields)
    assert response.status_code == 200, response.json
    run_pipeline(pool, response.json["id"])
    row = conn.execute("SELECT subject, body_text, body_html FROM messages").fetchone()
    assert row["subject"] == "Grüße aus Köln"
    assert "12 € TTC" in row["body_text"]
    assert "Żółć" in row["body_html"]


def test_an_unknown_charset_falls_back_to_utf8(client, pool, conn, endpoint):
    fields, _ = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    fields |= {"text": "naïve\n", "charsets": '{"text": "x-no-such-charset"}', "attachments": "0"}
    response = post(client, endpoint, fields)
    run_pipeline(pool, response.json["id"])
    assert "naïve" in conn.execute("SELECT body_text FROM messages").fetchone()["body_text"]


def test_windows_paths_in_attachment_names_are_reduced_to_the_file_name(
    client, pool, conn, endpoint
):
    fields, files = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    info = json.loads(fields["attachment-info"])
    info["attachment3"]["filename"] = "\\\\share\\mail\\report.txt"
    response = post(client, endpoint, fields | {"attachment-info": json.dumps(info)}, files)
    run_pipeline(pool, response.json["id"])
    names = {r["filename"] for r in conn.execute("SELECT filename FROM attachments")}
    assert "report.txt" in names


@pytest.mark.parametrize("password", [None, "wrong"])
def test_a_missing_or_wrong_password_is_401(client, conn, endpoint, password):
    response = post(client, endpoint, *pp.sendgrid_raw(sample_mail(), RECIPIENT), password=password)
    pp.assert_refused(response, 401, None, conn)
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_an_endpoint_without_secret_needs_no_password(client, conn, mailbox):
    endpoint = pp.make_endpoint(conn, mailbox, "sendgrid", None)
    response = post(client, endpoint, *pp.sendgrid_raw(sample_mail(), RECIPIENT), password=None)
    assert response.status_code == 200


def test_a_body_that_is_not_form_data_is_415(client, conn, endpoint):
    response = client.post(endpoint.path, json={"email": "x"}, headers=pp.basic_auth("pw"))
    pp.assert_refused(response, 415, None, conn)


@pytest.mark.parametrize(
    ("envelope", "why"),
    [
        (None, "missing"),
        ("{not json", "not JSON"),
        ('{"to": "support@example.com"}', "to not a list"),
        ('{"to": []}', "no recipient"),
        ('{"to": ["support@example.com"], "from": 5}', "from not a string"),
    ],
)
def test_a_bad_envelope_is_422(client, conn, endpoint, envelope, why):
    fields, _ = pp.sendgrid_raw(sample_mail(), RECIPIENT)
    fields = {k: v for k, v in fields.items() if k != "envelope"}
    if envelope is not None:
        fields["envelope"] = envelope
    pp.assert_refused(post(client, endpoint, fields), 422, "envelope", conn)


def test_a_post_with_neither_email_nor_headers_is_422(client, conn, endpoint):
    fields, _ = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    del fields["headers"]
    pp.assert_refused(post(client, endpoint, fields | {"attachments": "0"}), 422, "headers", conn)


@pytest.mark.parametrize(
    ("field", "value"),
    [("charsets", "[1]"), ("attachment-info", "{oops"), ("attachments", "two")],
)
def test_malformed_fields_are_422_naming_the_field(client, conn, endpoint, field, value):
    fields, files = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    pp.assert_refused(post(client, endpoint, fields | {field: value}, files), 422, field, conn)


def test_an_announced_attachment_that_is_missing_is_422(client, conn, endpoint):
    fields, files = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    del files["attachment2"]
    pp.assert_refused(post(client, endpoint, fields, files), 422, "attachment2", conn)


def test_a_raw_email_over_the_size_limit_is_413(app, conn, endpoint):
    fields, _ = pp.sendgrid_raw(sample_mail(), RECIPIENT)
    body, ctype = pp.form_data(fields)
    with pp.overridden(app, max_message_bytes=len(fields["email"]) - 1) as small:
        response = small.post(
            endpoint.path, data=body, content_type=ctype, headers=pp.basic_auth("pw")
        )
    pp.assert_refused(response, 413, "message", conn)
