"""``004_…`` Mail admin API: every endpoint of the seed's table, replayed with a Bearer
admin token, plus abilities, POST-and-JSON-only, secrets never read back, and tenancy."""

from __future__ import annotations

import pytest

from pipeline import crypto
from pipeline.store import mailboxes
from tests.helpers import make_org
from tests.web.family_helpers import bearer

SECRET_WORDS = ("password_enc", "client_secret_enc", "refresh_token", "s3cret")


@pytest.fixture
def admin(org):
    return bearer(org.key.token)


@pytest.fixture
def post(client, admin):
    def send(path, body=None, headers=None):
        return client.post(f"/api/v1/mail/{path}", json=body, headers=headers or admin)

    return send


def never_secret(response):
    text = response.get_data(as_text=True)
    assert not any(word in text for word in SECRET_WORDS), text


def test_mailboxes_list_with_selectable_queues(post, conn, org, mailbox):
    other = mailboxes.create(conn, org.org_id, "billing@example.com", "Billing")
    conn.execute("UPDATE mailboxes SET inbox_name = 'Accounts' WHERE id = %s", (other.id,))
    response = post("mailboxes")
    assert response.status_code == 200
    data = response.json["data"]
    assert [m["address"] for m in data["mailboxes"]] == [
        "billing@example.com",
        "support@example.com",
    ]
    assert data["queues"] == ["Accounts", "Support"]
    item = data["mailboxes"][1]
    assert item["has_password"] is False
    assert item["gmail_connected"] is False
    assert item["created_at"].endswith("Z")
    never_secret(response)


def test_create_update_and_delete_a_mailbox(post, conn, org):
    created = post(
        "mailboxes/create",
        {"name": "Sales", "address": "Sales@Example.com", "inbox_name": "Sales",
         "imap_host": "imap.example.com", "imap_port": 993, "imap_username": "sales"},
    )  # fmt: skip
    assert created.status_code == 201
    box = created.json["data"]
    assert box["address"] == "sales@example.com"
    assert box["imap_encryption"] == "ssl"
    updated = post(
        "mailboxes/update",
        {"mailbox_id": box["id"], "is_active": True, "imap_port": 143, "imap_encryption": "tls"},
    )
    assert updated.status_code == 200
    assert updated.json["data"]["is_active"] is True
    assert updated.json["data"]["imap_port"] == 143
    assert updated.json["data"]["name"] == "Sales"
    deleted = post("mailboxes/delete", {"mailbox_id": box["id"]})
    assert deleted.json == {"data": {"id": box["id"], "deleted": True}}
    assert post("mailboxes/delete", {"mailbox_id": box["id"]}).status_code == 404


@pytest.mark.parametrize(
    ("field", "column", "flag"),
    [("imap_password", "imap_password_enc", "has_password"),
     ("smtp_password", "smtp_password_enc", "has_smtp_password"),
     ("oauth_client_secret", "oauth_client_secret_enc", "has_oauth_client_secret")],
)  # fmt: skip
def test_set_password_stores_it_encrypted_and_never_returns_it(
    post, conn, settings, mailbox, field, column, flag
):
    response = post(
        "mailboxes/set-password", {"mailbox_id": mailbox.id, "field": field, "value": "s3cret"}
    )
    assert response.status_code == 200
    assert response.json["data"][flag] is True
    never_secret(response)
    stored = conn.execute(f"SELECT {column} AS c FROM mailboxes").fetchone()["c"]
    assert b"s3cret" not in bytes(stored)
    assert crypto.decrypt(settings.secret_key, stored) == "s3cret"
    never_secret(post("mailboxes"))
    cleared = post(
        "mailboxes/set-password", {"mailbox_id": mailbox.id, "field": field, "value": None}
    )
    assert cleared.json["data"][flag] is False


def test_gmail_connected_shows_only_as_a_flag(post, conn, mailbox):
    conn.execute("UPDATE mailboxes SET oauth_refresh_token_enc = 'x'::bytea")
    response = post("mailboxes")
    assert response.json["data"]["mailboxes"][0]["gmail_connected"] is True
    never_secret(response)


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [("mailboxes/create", {"name": "X", "address": "support@example.com"}, 409, "address"),
     ("mailboxes/create", {"name": "X"}, 422, "address"),
     ("mailboxes/create", {"name": "X", "address": "x@example.com", "imap_port": 70000}, 422, "imap_port"),
     ("mailboxes/update", {"mailbox_id": 999999, "name": "X"}, 404, "mailbox_id"),
     ("mailboxes/update", {"name": "X"}, 422, "mailbox_id"),
     ("mailboxes/update", {"mailbox_id": 1, "name": None}, 422, "name"),
     ("mailboxes/set-password", {"mailbox_id": 1, "field": "api_token", "value": "v"}, 422, "field"),
     ("mailboxes/set-password", {"mailbox_id": 999999, "field": "smtp_password", "value": "v"}, 404, "mailbox_id")],
)  # fmt: skip
def test_mailbox_errors_name_the_field(post, mailbox, path, body, status, field):
    response = post(path, body)
    assert response.status_code == status, response.json
    assert response.json["message"]
    assert field in response.json["errors"]


def test_ignored_subjects_list_create_delete(post, conn, org):
    created = post("subjects/create", {"subject": "Out of office"})
    assert created.status_code == 201
    entry = created.json["data"]
    assert entry["subject"] == "Out of office"
    row = conn.execute("SELECT org_id, subject FROM ignored_subjects").fetchone()
    assert row == {"org_id": org.org_id, "subject": "Out of office"}
    assert post("subjects").json["data"] == [entry]
    assert post("subjects/create", {"subject": "out of OFFICE"}).status_code == 409
    assert post("subjects/delete", {"id": entry["id"]}).json == {
        "data": {"id": entry["id"], "deleted": True}
    }
    assert post("subjects").json["data"] == []
    assert post("subjects/delete", {"id": entry["id"]}).status_code == 404


def test_excluded_emails_list_create_delete(post, conn):
    address = post("excluded-emails/create", {"email": "Spam@Example.org"})
    domain = post("excluded-emails/create", {"email": "@junk.example"})
    assert address.status_code == domain.status_code == 201
    assert address.json["data"]["email"] == "spam@example.org"
    stored = [r["email"] for r in conn.execute("SELECT email FROM excluded_emails ORDER BY id")]
    assert stored == ["spam@example.org", "@junk.example"]
    listed = post("excluded-emails").json["data"]
    assert [e["email"] for e in listed] == stored
    bad = post("excluded-emails/create", {"email": "nobody"})
    assert bad.status_code == 422
    assert "email" in bad.json["errors"]
    assert post("excluded-emails/delete", {"id": listed[0]["id"]}).status_code == 200
    assert [e["email"] for e in post("excluded-emails").json["data"]] == ["@junk.example"]


@pytest.fixture
def sent(conn, org):
    ids = []
    for n, (subject, age) in enumerate(
        (("Invoice 12", "1 day"), ("Welcome", "3 days"), ("Old news", "40 days"))
    ):
        ids.append(
            conn.execute(
                """INSERT INTO sent_mails (org_id, message_id, from_address, to_addresses,
                                           bcc_addresses, subject, body_text, status, created_at)
                   VALUES (%s, %s, 'help@example.com', '{client@example.org}', '{audit@example.org}',
                           %s, 'Body', 'sent', now() - %s::interval) RETURNING id""",
                (org.org_id, f"<m{n}@intake.local>", subject, age),
            ).fetchone()["id"]
        )
    conn.execute(
        """INSERT INTO delivery_events (org_id, sent_mail_id, event, provider, provider_event_id,
                                        recipient)
           VALUES (%s, %s, 'delivered', 'mailgun', 'ev-1', 'client@example.org')""",
        (org.org_id, ids[0]),
    )
    return ids


def test_recent_sent_mail_within_range_days(post, sent):
    response = post("sent-mail", {"range_days": 7})
    assert response.status_code == 200
    assert [m["subject"] for m in response.json["data"]] == ["Invoice 12", "Welcome"]
    assert response.json["range_days"] == 7
    assert [m["subject"] for m in post("sent-mail", {"range_days": 2}).json["data"]] == [
        "Invoice 12"
    ]
    assert len(post("sent-mail").json["data"]) == 2  # default: 7 days


@pytest.mark.parametrize("days", [0, 31, "many"])
def test_range_days_outside_1_to_30_is_a_422(post, days):
    response = post("sent-mail", {"range_days": days})
    assert response.status_code == 422
    assert "range_days" in response.json["errors"]


def test_search_and_show_sent_mail(post, sent):
    found = post("sent-mail/search", {"q": "invoice", "limit": 5}).json["data"]
    assert [m["id"] for m in found] == [sent[0]]
    by_bcc = post("sent-mail/search", {"q": "audit@"}).json["data"]
    assert len(by_bcc) == 3
    assert post("sent-mail/search", {"q": "100%"}).json["data"] == []
    assert post("sent-mail/search", {}).status_code == 422
    shown = post("sent-mail/show", {"id": sent[0]})
    assert shown.status_code == 200
    data = shown.json["data"]
    assert data["body_text"] == "Body"
    assert data["to_addresses"] == ["client@example.org"]
    assert data["delivery_events"][0]["event"] == "delivered"
    missing = post("sent-mail/show", {"id": 999999})
    assert missing.status_code == 404
    assert missing.json == {
        "message": "Sent mail not found",
        "errors": {"id": ["Sent mail not found"]},
    }


READS = ["mailboxes", "subjects", "excluded-emails", "sent-mail"]
WRITES = [
    ("mailboxes/create", {"name": "X", "address": "x@example.com"}),
    ("subjects/create", {"subject": "x"}),
    ("excluded-emails/create", {"email": "x@example.com"}),
]


def test_abilities_follow_the_admin_role_and_scopes(client, conn):
    no_admin = make_org(conn, "Staff", scopes=("read", "write"))
    reader = make_org(conn, "Auditor", scopes=("admin",))
    for path in READS:
        denied = client.post(f"/api/v1/mail/{path}", json={}, headers=bearer(no_admin.key.token))
        assert denied.status_code == 403
        assert set(denied.json) == {"message"}
        allowed = client.post(f"/api/v1/mail/{path}", json={}, headers=bearer(reader.key.token))
        assert allowed.status_code == 200, path
    for path, body in WRITES:
        denied = client.post(f"/api/v1/mail/{path}", json=body, headers=bearer(reader.key.token))
        assert denied.status_code == 403
        assert "mail:write" in denied.json["message"]


def test_missing_or_bad_token_is_a_401(client, org):
    for headers in ({}, bearer("junk"), bearer(f"{org.key.key}.wrong")):
        response = client.post("/api/v1/mail/mailboxes", json={}, headers=headers)
        assert response.status_code == 401
        assert response.json == {"message": "Unauthenticated."}


def test_post_and_json_only(client, admin):
    wrong_method = client.get("/api/v1/mail/mailboxes", headers=admin)
    assert wrong_method.status_code == 405
    assert set(wrong_method.json) == {"message"}
    form = client.post("/api/v1/mail/subjects/create", data={"subject": "x"}, headers=admin)
    assert form.status_code == 415
    assert set(form.json) == {"message"}
    unknown = client.post("/api/v1/mail/nothing", json={}, headers=admin)
    assert unknown.status_code == 404
    assert set(unknown.json) == {"message"}


def test_an_organization_sees_and_touches_only_its_own(post, client, conn, org, mailbox, sent):
    entry = post("subjects/create", {"subject": "Mine"}).json["data"]
    other = bearer(make_org(conn, "Globex").key.token)

    def call(path, body=None):
        return client.post(f"/api/v1/mail/{path}", json=body or {}, headers=other)

    assert call("mailboxes").json["data"] == {"mailboxes": [], "queues": []}
    assert call("subjects").json["data"] == []
    assert call("sent-mail").json["data"] == []
    assert call("sent-mail/search", {"q": "invoice"}).json["data"] == []
    assert call("sent-mail/show", {"id": sent[0]}).status_code == 404
    assert call("subjects/delete", {"id": entry["id"]}).status_code == 404
    assert (
        call("mailboxes/update", {"mailbox_id": mailbox.id, "name": "Mine now"}).status_code == 404
    )
    assert call("mailboxes/delete", {"mailbox_id": mailbox.id}).status_code == 404
    secret = {"mailbox_id": mailbox.id, "field": "smtp_password", "value": "x"}
    assert call("mailboxes/set-password", secret).status_code == 404
    assert conn.execute("SELECT name, smtp_password_enc FROM mailboxes").fetchone() == {
        "name": "Support",
        "smtp_password_enc": None,
    }


def test_openapi_document_covers_the_three_families(client):
    document = client.get("/openapi.json").json
    paths = document["paths"]
    for path in (
        "/api/v1/incoming_mails",
        "/api/v1/incoming_mails/{mail_id}/ticket",
        "/api/v1/incoming_mails/{mail_id}/reply",
        "/message/listTickets/{apiKey}/{userId}",
        "/message/grabTicket/{apiKey}/{userId}/{ticketId}",
        "/message/insertTicket/{apiKey}/{userId}",
        "/message/listTicketsEmails/{apiKey}/{userId}",
        "/api/v1/mail/mailboxes/set-password",
        "/api/v1/mail/sent-mail/show",
    ):
        assert path in paths, path
    set_password = paths["/api/v1/mail/mailboxes/set-password"]["post"]
    assert set_password["security"] == [{"Bearer": []}]
    schema = document["components"]["schemas"]["SetPassword"]
    assert schema["properties"]["field"]["enum"] == [
        "imap_password",
        "smtp_password",
        "oauth_client_secret",
    ]
    assert "InsertTicketBody" in document["components"]["schemas"]
