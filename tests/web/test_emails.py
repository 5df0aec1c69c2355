"""``002_…`` emails: filters, sort, full-text search, stats, raw, patch, bulk and delete."""

from __future__ import annotations

import re

import pytest

from tests.helpers import accept, mfs
from tests.web.native import deliver, invoice_mail


def plain(subject: str, body: str, sender: str = "bob@example.org", n: int = 0) -> bytes:
    return mfs(f"""
        From: Bob <{sender}>
        To: support@example.com
        Subject: {subject}
        Message-ID: <plain-{n}@example.org>
        Date: Mon, 15 Jan 2024 10:30:00 +0000

        {body}
    """)


@pytest.fixture
def three(pool, conn, mailbox):
    """Three emails received on three days: an invoice with attachment, two plain ones."""
    ids = [
        deliver(pool, mailbox, invoice_mail("Invoice March")),
        deliver(pool, mailbox, plain("Livraison retardée", "Ma commande n'est pas arrivée", n=1)),
        deliver(pool, mailbox, plain("Password reset", "I cannot log in", "carol@example.net", 2)),
    ]
    for days, email_id in zip((3, 2, 1), ids, strict=True):
        conn.execute(
            "UPDATE messages SET received_at = now() - %s * interval '1 day' WHERE id = %s",
            (days, email_id),
        )
    return ids


def listed(client, org, query: str = "") -> list[int]:
    response = client.get(f"/api/emails?{query}", headers=org.headers)
    assert response.status_code == 200, response.json
    return [e["id"] for e in response.json["data"]]


def test_list_is_newest_first_by_default(client, org, three):
    assert listed(client, org) == three[::-1]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=CAROL", [2]),
        ("subject=livraison", [1]),
        ("search=commande", [1]),
        ("has_attachments=1", [0]),
        ("has_attachments=0", [2, 1]),
        ("is_read=0", [2, 1, 0]),
        ("folder=INBOX", [2, 1, 0]),
        ("folder=Sent", []),
        ("sort=subject&order=asc", [0, 1, 2]),
        ("sort=from_address&order=asc", [0, 1, 2]),
        ("order=asc", [0, 1, 2]),
        ("subject=%25", []),
    ],
)
def test_list_filters_and_sorts(client, org, three, query, expected):
    assert listed(client, org, query) == [three[i] for i in expected]


def test_since_and_until_are_inclusive_days(client, conn, org, three):
    day = conn.execute(
        "SELECT (received_at AT TIME ZONE 'UTC')::date AS d FROM messages WHERE id = %s",
        (three[1],),
    ).fetchone()["d"]
    assert listed(client, org, f"since={day}&until={day}") == [three[1]]
    assert listed(client, org, f"until={day}") == [three[1], three[0]]


def test_account_filter_and_pagination_totals(client, org, mailbox, three):
    body = client.get(
        f"/api/emails?account_id={mailbox.id}&per_page=2&page=2", headers=org.headers
    ).json
    assert body["pagination"] == {"page": 2, "per_page": 2, "total": 3, "total_pages": 2}
    assert [e["id"] for e in body["data"]] == [three[0]]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=size", "sort"),
        ("order=up", "order"),
        ("since=15/01/2024", "since"),
        ("is_read=maybe", "is_read"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, org, query, field):
    response = client.get(f"/api/emails?{query}", headers=org.headers)
    assert (response.status_code, response.json["field"]) == (422, field)


def test_search_ranks_subject_matches_first(client, pool, org, mailbox, three):
    body_only = deliver(pool, mailbox, plain("Question", "about my invoice please", n=9))
    response = client.get("/api/emails/search?q=invoice", headers=org.headers).json
    assert [e["id"] for e in response["data"]] == [three[0], body_only]
    assert response["data"][0]["rank"] > response["data"][1]["rank"]


def test_search_understands_web_search_syntax_and_limits(client, org, three):
    quoted = client.get('/api/emails/search?q="cannot log"', headers=org.headers).json["data"]
    excluded = client.get("/api/emails/search?q=invoice -march", headers=org.headers).json["data"]
    limited = client.get(
        "/api/emails/search?q=example OR invoice OR password&limit=1", headers=org.headers
    )
    assert [e["id"] for e in quoted] == [three[2]]
    assert excluded == []
    assert len(limited.json["data"]) <= 1


@pytest.mark.parametrize(
    ("query", "field"), [("q=a", "q"), ("q=%20%20x", "q"), ("q=ab&limit=51", "limit"), ("", "q")]
)
def test_search_validates_q_and_limit(client, org, query, field):
    response = client.get(f"/api/emails/search?{query}", headers=org.headers)
    assert (response.status_code, response.json["field"]) == (422, field)


def test_stats_count_totals_folders_categories_and_days(client, conn, org, three):
    conn.execute(
        "INSERT INTO categories (org_id, name, slug) VALUES (%s, 'Bills', 'bills')", (org.org_id,)
    )
    client.patch(f"/api/emails/{three[0]}", json={"categories": [1]}, headers=org.headers)
    client.get(f"/api/emails/{three[1]}", headers=org.headers)
    stats = client.get("/api/emails/stats", headers=org.headers).json["data"]
    assert stats["total_emails"] == 3
    assert stats["unread_emails"] == 2
    assert stats["with_attachments"] == 1
    assert stats["by_folder"] == [{"folder": "INBOX", "count": 3}]
    assert stats["by_category"] == [{"id": 1, "name": "Bills", "slug": "bills", "count": 1}]
    assert sum(d["count"] for d in stats["by_day"]) == 3
    assert len(stats["by_day"]) == 3


def test_raw_gives_bodies_and_every_header(client, org, three):
    raw = client.get(f"/api/emails/{three[2]}/raw", headers=org.headers).json["data"]
    assert raw["headers"]["Date"] == "Mon, 15 Jan 2024 10:30:00 +0000"
    assert raw["headers"]["Message-ID"] == "<plain-2@example.org>"
    assert {"name": "Subject", "value": "Password reset"} in raw["header_list"]
    assert raw["body_text"].strip() == "I cannot log in"


def test_patch_sets_flags_and_categories(client, conn, org, three):
    conn.execute(
        "INSERT INTO categories (org_id, name, slug) VALUES (%s, 'A', 'a'), (%s, 'B', 'b')",
        (org.org_id, org.org_id),
    )
    response = client.patch(
        f"/api/emails/{three[0]}",
        json={"is_starred": True, "is_archived": True, "categories": [2, 1]},
        headers=org.headers,
    )
    data = response.json["data"]
    assert (data["is_starred"], data["is_archived"], data["is_read"]) == (True, True, False)
    assert [c["slug"] for c in data["categories"]] == ["a", "b"]
    again = client.patch(
        f"/api/emails/{three[0]}", json={"is_read": True, "categories": [2]}, headers=org.headers
    )
    assert [c["slug"] for c in again.json["data"]["categories"]] == ["b"]
    assert again.json["data"]["read_at"] is not None
    unread = client.patch(f"/api/emails/{three[0]}", json={"is_read": False}, headers=org.headers)
    assert unread.json["data"]["read_at"] is None


def test_patch_refuses_unknown_fields_and_categories(client, org, three):
    unknown = client.patch(f"/api/emails/{three[0]}", json={"subject": "x"}, headers=org.headers)
    category = client.patch(
        f"/api/emails/{three[0]}", json={"categories": [99]}, headers=org.headers
    )
    assert (unknown.status_code, unknown.json["field"]) == (422, "subject")
    assert (category.status_code, category.json["field"]) == (404, "categories")


@pytest.mark.parametrize(
    ("action", "column", "value"),
    [
        ("mark_read", "is_read", True),
        ("star", "is_starred", True),
        ("archive", "is_archived", True),
        ("mark_unread", "is_read", False),
        ("unstar", "is_starred", False),
        ("unarchive", "is_archived", False),
    ],
)
def test_bulk_flag_actions_report_unknown_ids(client, conn, org, three, action, column, value):
    response = client.post(
        "/api/emails/bulk",
        json={"ids": [three[0], three[1], 424242], "action": action},
        headers=org.headers,
    )
    assert response.json["data"] == {
        "action": action,
        "processed": sorted(three[:2]),
        "count": 2,
        "not_found": [424242],
    }
    rows = conn.execute(f"SELECT id, {column} AS v FROM messages ORDER BY id").fetchall()
    assert {r["id"]: r["v"] for r in rows}[three[0]] is value


def test_bulk_refuses_an_unknown_action(client, org, three):
    response = client.post(
        "/api/emails/bulk", json={"ids": [1], "action": "burn"}, headers=org.headers
    )
    assert (response.status_code, response.json["field"]) == (422, "action")


def test_delete_example_removes_the_email_and_the_attachments_its_ticket_showed(
    client, conn, org, three
):
    attachment_id = conn.execute("SELECT id, ticket_id FROM attachments").fetchone()["id"]
    ticket_id = conn.execute("SELECT ticket_id FROM messages WHERE id = %s", (three[0],))
    ticket_id = ticket_id.fetchone()["ticket_id"]
    digests = conn.execute(
        "SELECT raw_sha256 AS d FROM messages WHERE id = %s UNION SELECT blob_sha256 FROM attachments",
        (three[0],),
    ).fetchall()
    response = client.delete(f"/api/emails/{three[0]}", headers=org.headers)
    assert response.json == {"success": True, "message": "Email deleted"}
    assert client.get(f"/api/emails/{three[0]}", headers=org.headers).status_code == 404
    for path in (f"/api/attachments/{attachment_id}", f"/api/attachments/{attachment_id}/download"):
        assert client.get(path, headers=org.headers).status_code == 404
    assert conn.execute("SELECT count(*) AS n FROM attachments").fetchone()["n"] == 0
    left = conn.execute(
        "SELECT count(*) AS n FROM blobs WHERE sha256 = ANY(%s)", ([d["d"] for d in digests],)
    )
    assert left.fetchone()["n"] == 0
    # the ticket keeps its message: its own copy of the text, no longer linked to the email
    kept = conn.execute(
        "SELECT body_text, message_id FROM ticket_messages WHERE ticket_id = %s", (ticket_id,)
    ).fetchone()
    assert kept == {"body_text": "Please find the invoice for order 1.", "message_id": None}
    assert client.delete(f"/api/emails/{three[0]}", headers=org.headers).status_code == 404


def test_delete_keeps_blobs_another_email_still_uses(client, conn, pool, org, mailbox, three):
    conn.execute("UPDATE attachments SET ticket_id = NULL, ticket_message_id = NULL")
    twin = deliver(pool, mailbox, invoice_mail("Invoice April", n=2))
    conn.execute("UPDATE attachments SET ticket_id = NULL, ticket_message_id = NULL")
    client.post(
        "/api/emails/bulk", json={"ids": [three[0]], "action": "delete"}, headers=org.headers
    )
    shared = conn.execute(
        "SELECT blob_sha256 FROM attachments WHERE message_id = %s", (twin,)
    ).fetchone()
    assert conn.execute(
        "SELECT 1 FROM blobs WHERE sha256 = %s", (shared["blob_sha256"],)
    ).fetchone()
    assert conn.execute("SELECT count(*) AS n FROM attachments").fetchone()["n"] == 1


def test_folder_inbox_selects_mail_from_every_channel_that_shows_inbox(
    client, conn, pool, org, mailbox
):
    arrived = {
        channel: accept(pool, plain(channel, "Hi", n=n), mailbox, channel)
        for n, channel in enumerate(("smtp", "webhook:mailgun", "api", "imap"))
    }
    conn.execute("UPDATE messages SET folder = 'Archive' WHERE id = %s", (arrived["imap"],))
    response = client.get("/api/emails?folder=INBOX", headers=org.headers)
    assert {e["id"] for e in response.json["data"]} == {
        arrived["smtp"],
        arrived["webhook:mailgun"],
        arrived["api"],
    }
    assert {e["folder"] for e in response.json["data"]} == {"INBOX"}
    assert listed(client, org, "folder=Archive") == [arrived["imap"]]


SECONDS = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def test_get_example_has_the_documents_timestamp_form_and_lf_text(client, conn, org, three):
    conn.execute(
        "UPDATE messages SET received_at = '2024-01-15T10:30:00.531979Z' WHERE id = %s",
        (three[1],),
    )
    email = client.get(f"/api/emails/{three[1]}", headers=org.headers).json["data"]
    assert email["received_at"] == "2024-01-15T10:30:00Z"
    assert email["read_at"] is not None
    for name in ("read_at", "created_at", "updated_at"):
        assert re.match(SECONDS, email[name]), email[name]
    assert email["body_text"] == "Ma commande n'est pas arrivée"
    raw = client.get(f"/api/emails/{three[1]}/raw", headers=org.headers).json["data"]
    assert "\r" not in raw["body_text"]
    attachments = client.get(f"/api/emails/{three[0]}/attachments", headers=org.headers)
    assert re.match(SECONDS, attachments.json["data"][0]["created_at"])


def test_text_keeps_lf_line_endings_and_the_raw_message_its_crlf(client, conn, pool, org, mailbox):
    raw = mfs("""
        From: Bob <bob@example.org>
        To: support@example.com
        Subject: Printer
        Message-ID: <printer@example.org>

        Hello,

        A question about the printer.
    """)
    email_id = deliver(pool, mailbox, raw)
    email = client.get(f"/api/emails/{email_id}", headers=org.headers).json["data"]
    assert email["body_text"] == "Hello,\n\nA question about the printer."
    stored = conn.execute(
        "SELECT b.data FROM blobs b JOIN messages m ON m.raw_sha256 = b.sha256 WHERE m.id = %s",
        (email_id,),
    ).fetchone()["data"]
    assert b"Hello,\r\n\r\nA question about the printer.\r\n" in bytes(stored)
