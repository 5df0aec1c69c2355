"""The foundation's native API: emails, attachments and tickets behind API keys."""

from __future__ import annotations

import base64

import pytest

from tests.helpers import accept, make_org, mfs, run_pipeline

MAIL = mfs(f"""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: Invoice
    Message-ID: <inv-1@example.org>
    X-Mailer: Tests
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="b"

    --b
    Content-Type: text/plain; charset=utf-8

    Please find the invoice.
    --b
    Content-Type: application/pdf
    Content-Disposition: attachment; filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf
    Content-Transfer-Encoding: base64

    {base64.b64encode(b"%PDF-1.4 invoice").decode()}
    --b--
""")


@pytest.fixture
def stored(pool, mailbox):
    message_id = accept(pool, MAIL, mailbox)
    run_pipeline(pool, message_id)
    return message_id


def test_requests_without_or_with_wrong_credentials_get_401(client, org):
    assert client.get("/api/emails").status_code == 401
    response = client.get("/api/emails", headers={"X-API-Key": org.key.key, "X-API-Secret": "x"})
    assert response.status_code == 401
    assert response.json == {"success": False, "error": "Invalid API credentials"}


def test_key_without_the_scope_gets_403(client, conn):
    limited = make_org(conn, "Limited", scopes=("send",))
    response = client.get("/api/emails", headers=limited.headers)
    assert response.status_code == 403
    assert "read" in response.json["error"]


def test_bearer_token_form_is_accepted(client, org):
    response = client.get("/api/emails", headers={"Authorization": f"Bearer {org.key.token}"})
    assert response.status_code == 200


def test_email_list_is_paginated_in_the_envelope(client, org, stored):
    response = client.get("/api/emails?per_page=10", headers=org.headers)
    assert response.status_code == 200
    body = response.json
    assert body["success"] is True
    assert body["pagination"] == {"page": 1, "per_page": 10, "total": 1, "total_pages": 1}
    assert body["data"][0]["subject"] == "Invoice"
    assert body["data"][0]["from_address"] == "alice@example.org"


@pytest.mark.parametrize("query", ["per_page=101", "per_page=0", "page=abc"])
def test_bad_pagination_is_a_422_naming_the_field(client, org, query):
    response = client.get(f"/api/emails?{query}", headers=org.headers)
    assert response.status_code == 422
    assert response.json["success"] is False
    assert response.json["field"] == query.split("=")[0]


def test_get_email_has_the_documented_shape_and_marks_it_read(client, org, stored):
    response = client.get(f"/api/emails/{stored}", headers=org.headers)
    data = response.json["data"]
    for field in (
        "id",
        "account_id",
        "message_uid",
        "message_id",
        "folder",
        "from_address",
        "from_name",
        "to_addresses",
        "cc_addresses",
        "reply_to",
        "subject",
        "body_text",
        "body_html",
        "headers",
        "received_at",
        "read_at",
        "is_read",
        "is_starred",
        "is_archived",
        "has_attachments",
        "attachment_count",
        "attachments",
        "categories",
        "created_at",
        "updated_at",
    ):
        assert field in data, field
    assert data["is_read"] is True
    assert data["read_at"].endswith("Z")
    assert data["headers"]["X-Mailer"] == "Tests"
    assert data["attachments"][0]["original_filename"] == "Facture été.pdf"
    assert data["attachments"][0]["file_size"] == len(b"%PDF-1.4 invoice")


def test_attachment_download_has_safe_headers(client, org, stored):
    attachment_id = client.get(f"/api/emails/{stored}", headers=org.headers).json["data"][
        "attachments"
    ][0]["id"]
    response = client.get(f"/api/emails/{stored}/attachments/{attachment_id}", headers=org.headers)
    assert response.status_code == 200
    assert response.data == b"%PDF-1.4 invoice"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(b"%PDF-1.4 invoice"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf" in disposition


def test_tickets_list_and_detail_with_messages(client, org, stored):
    listed = client.get("/api/tickets", headers=org.headers).json
    assert listed["pagination"]["total"] == 1
    ticket = listed["data"][0]
    assert ticket["subject"] == "Invoice"
    assert ticket["contact"]["email"] == "alice@example.org"
    detail = client.get(f"/api/tickets/{ticket['id']}", headers=org.headers).json["data"]
    assert detail["messages"][0]["body_text"].strip() == "Please find the invoice."
    assert detail["messages"][0]["attachments"][0]["filename"] == "Facture été.pdf"


def test_an_organization_never_sees_another_organizations_data(client, conn, stored, org):
    other = make_org(conn, "Globex")
    ticket_id = conn.execute("SELECT id FROM tickets").fetchone()["id"]
    attachment_id = conn.execute("SELECT id FROM attachments").fetchone()["id"]
    assert client.get("/api/emails", headers=other.headers).json["data"] == []
    assert client.get("/api/tickets", headers=other.headers).json["data"] == []
    for path in (
        f"/api/emails/{stored}",
        f"/api/tickets/{ticket_id}",
        f"/api/emails/{stored}/attachments/{attachment_id}",
    ):
        response = client.get(path, headers=other.headers)
        assert response.status_code == 404, path
        assert response.json["success"] is False
    assert conn.execute("SELECT is_read FROM messages").fetchone()["is_read"] is False


def test_unknown_paths_answer_json(client, org):
    response = client.get("/api/nope", headers=org.headers)
    assert response.status_code == 404
    assert response.json["success"] is False


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"postgres": True, "redis": True}


def test_unknown_ticket_status_is_refused(client, org):
    response = client.get("/api/tickets?status=lost", headers=org.headers)
    assert response.status_code == 422
    assert response.json["field"] == "status"


def test_openapi_document_describes_the_endpoints(client):
    document = client.get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    assert "/api/emails" in document["paths"]
    assert "/api/tickets" in document["paths"]
