"""``002_…`` attachments: lists, metadata and downloads that are safe for any file."""

from __future__ import annotations

import pytest

from tests.web.native import deliver, invoice_mail


@pytest.fixture
def email_id(pool, mailbox):
    return deliver(pool, mailbox, invoice_mail())


def test_list_and_metadata_have_the_documented_shape(client, org, email_id):
    listed = client.get(f"/api/emails/{email_id}/attachments", headers=org.headers).json["data"]
    assert set(listed[0]) == {
        "id",
        "filename",
        "original_filename",
        "mime_type",
        "file_size",
        "is_inline",
        "content_id",
        "created_at",
    }
    meta = client.get(f"/api/attachments/{listed[0]['id']}", headers=org.headers).json["data"]
    assert meta["email_id"] == email_id
    assert meta["mime_type"] == "application/pdf"


def test_download_by_id_sends_bytes_with_safe_headers(client, org, email_id, conn):
    attachment_id = conn.execute("SELECT id FROM attachments").fetchone()["id"]
    response = client.get(f"/api/attachments/{attachment_id}/download", headers=org.headers)
    assert response.data == b"%PDF-1.4 invoice"
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == "16"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize("mime_type", ["text/html", "image/svg+xml", "text/plain\r\nX-Evil: 1"])
def test_html_svg_and_malformed_types_are_never_served_inline(
    client, org, email_id, conn, mime_type
):
    conn.execute(
        "UPDATE attachments SET mime_type = %s, filename = %s", (mime_type, 'a"b\r\n.html')
    )
    attachment_id = conn.execute("SELECT id FROM attachments").fetchone()["id"]
    response = client.get(f"/api/attachments/{attachment_id}/download", headers=org.headers)
    assert response.headers["Content-Type"] == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition and "\n" not in disposition
    assert "filename*=UTF-8''a%22b%0D%0A.html" in disposition
    assert "X-Evil" not in response.headers


def test_attachments_of_an_unknown_email_are_404(client, org):
    assert client.get("/api/emails/999/attachments", headers=org.headers).status_code == 404
    assert client.get("/api/attachments/999/download", headers=org.headers).status_code == 404
