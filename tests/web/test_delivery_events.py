"""Mailgun event webhooks (``/mg-*``) and ``/mail-report`` become delivery events."""

from __future__ import annotations

import time

import pytest
import redis

from tests.helpers import make_org, mfs
from tests.intake import provider_payloads as pp

KEY = "key-acme-signing"
MESSAGE_ID = "20180812211713.1.DF5966851B4BAA99@example.org"


def sent_mail(conn, org_id, message_id: str = f"<{MESSAGE_ID}>") -> int:
    return conn.execute(
        """INSERT INTO sent_mails (org_id, message_id, from_address, to_addresses, subject, status)
           VALUES (%s, %s, 'support@example.com', '{recipient@example.com}', 'Testing', 'sent')
           RETURNING id""",
        (org_id, message_id),
    ).fetchone()["id"]


def subscribe(conn, org_id, event: str) -> None:
    conn.execute(
        "INSERT INTO webhooks (org_id, url, events) VALUES (%s, 'https://hooks.example.com/', %s)",
        (org_id, [event]),
    )


@pytest.fixture
def acme(conn, org, mailbox):
    pp.make_endpoint(conn, mailbox, "mailgun", KEY)
    return sent_mail(conn, org.org_id)


EVENT_DATA = {
    "mg-delivered": {"event": "delivered", "delivery-status": {"code": 250, "message": "OK"}},
    "mg-opened": {"event": "opened", "ip": "888.222.444.111"},
    "mg-clicked": {"event": "clicked", "url": "https://example.com/test"},
    "mg-complained": {"event": "complained"},
    "mg-permanent-fail": {
        "event": "failed",
        "severity": "permanent",
        "reason": "bounce",
        "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist."},
    },
    "mg-temporary-fail": {
        "event": "failed",
        "severity": "temporary",
        "reason": "generic",
        "delivery-status": {"code": 498, "message": "No MX for nomx.example.com"},
    },
}
STORED = {
    "mg-delivered": "delivered",
    "mg-opened": "opened",
    "mg-clicked": "clicked",
    "mg-complained": "complained",
    "mg-permanent-fail": "failed_permanent",
    "mg-temporary-fail": "failed_temporary",
}


def mailgun_event(path: str, key: str = KEY, event_id: str = "hTWCTD81RtiDN", **changes) -> dict:
    data = {
        "id": event_id,
        "timestamp": 1534108637.153125,
        "recipient": "recipient@example.com",
        "log-level": "info",
        "message": {"headers": {"message-id": MESSAGE_ID, "to": "recipient@example.com"}},
    } | EVENT_DATA[path]
    return {"signature": pp.mailgun_sign(key), "event-data": data | changes}


def events(conn) -> list[dict]:
    return conn.execute("SELECT * FROM delivery_events ORDER BY id").fetchall()


def assert_refused(response, status: int, field: str | None, conn) -> None:
    assert response.status_code == status, response.json
    assert response.json["success"] is False
    assert response.json.get("field") == field
    assert events(conn) == []


@pytest.mark.parametrize("path", STORED)
def test_each_mailgun_event_is_stored_and_linked_to_its_sent_mail(client, conn, acme, path):
    response = client.post(f"/{path}", json=mailgun_event(path))
    assert response.status_code == 200, response.json
    [row] = events(conn)
    assert (row["event"], row["provider"], row["sent_mail_id"]) == (STORED[path], "mailgun", acme)
    assert row["message_id"] == f"<{MESSAGE_ID}>"
    assert row["recipient"] == "recipient@example.com"
    last = conn.execute("SELECT last_event FROM sent_mails WHERE id = %s", (acme,)).fetchone()
    assert last["last_event"] == STORED[path]


def test_a_failure_keeps_its_code_and_diagnostic(client, conn, acme):
    client.post("/mg-permanent-fail", json=mailgun_event("mg-permanent-fail"))
    [row] = events(conn)
    assert row["status_code"] == "550"
    assert row["diagnostic"].startswith("5.1.1")


def test_an_event_raises_a_delivery_webhook_event_and_enqueues_its_delivery(
    client, conn, org, acme, settings
):
    subscribe(conn, org.org_id, "delivery.delivered")
    client.post("/mg-delivered", json=mailgun_event("mg-delivered"))
    raised = conn.execute("SELECT type, payload FROM webhook_events").fetchone()
    assert raised["type"] == "delivery.delivered"
    assert raised["payload"]["sent_mail_id"] == acme
    pending = conn.execute("SELECT status FROM webhook_deliveries").fetchall()
    assert [p["status"] for p in pending] == ["pending"]
    queued = redis.Redis.from_url(settings.redis_url).hlen(
        f"{settings.redis_namespace}:dramatiq:webhooks.msgs"
    )
    assert queued == 1


def test_a_repeated_event_is_stored_and_raised_once(client, conn, org, acme):
    subscribe(conn, org.org_id, "delivery.opened")
    first = client.post("/mg-opened", json=mailgun_event("mg-opened"))
    again = client.post("/mg-opened", json=mailgun_event("mg-opened"))  # new token, same id
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json["data"]["duplicate"] is True
    assert len(events(conn)) == 1
    assert conn.execute("SELECT count(*) AS n FROM webhook_events").fetchone()["n"] == 1


def test_an_event_without_id_is_identified_by_its_token(client, conn, acme):
    body = mailgun_event("mg-temporary-fail")
    del body["event-data"]["id"]
    client.post("/mg-temporary-fail", json=body)
    assert events(conn)[0]["provider_event_id"] == body["signature"]["token"]


def test_a_replayed_token_is_406(client, conn, acme):
    body = mailgun_event("mg-delivered")
    assert client.post("/mg-delivered", json=body).status_code == 200
    again = client.post(
        "/mg-delivered", json=body | {"event-data": body["event-data"] | {"id": "x"}}
    )
    assert again.status_code == 406
    assert again.json["field"] == "signature"
    assert len(events(conn)) == 1


def test_a_replay_recut_as_a_float_timestamp_and_shorter_token_is_406(client, conn, acme):
    body = mailgun_event("mg-delivered")
    body["signature"] = pp.mailgun_sign(KEY, token="e0" + "5f" * 24)
    assert client.post("/mg-delivered", json=body).status_code == 200
    signed = body["signature"]
    recut = signed | {"timestamp": signed["timestamp"] + "e0", "token": signed["token"][2:]}
    again = client.post(
        "/mg-delivered",
        json={"signature": recut, "event-data": body["event-data"] | {"id": "other"}},
    )
    assert again.status_code == 406
    assert len(events(conn)) == 1


def test_a_forged_signature_is_406(client, conn, acme):
    response = client.post("/mg-delivered", json=mailgun_event("mg-delivered", key="forged"))
    assert_refused(response, 406, "signature", conn)


def test_a_stale_signature_is_406(client, conn, acme):
    body = mailgun_event("mg-delivered")
    body["signature"] = pp.mailgun_sign(KEY, timestamp=int(time.time()) - 3600)
    assert_refused(client.post("/mg-delivered", json=body), 406, "timestamp", conn)


def test_an_event_for_mail_nobody_sent_is_406(client, conn, acme):
    body = mailgun_event("mg-delivered")
    body["event-data"]["message"]["headers"]["message-id"] = "unknown@example.org"
    assert_refused(client.post("/mg-delivered", json=body), 406, "signature", conn)


def test_another_organizations_key_cannot_report_on_this_organizations_mail(client, conn, acme):
    from pipeline.store import mailboxes

    other = make_org(conn, "Globex")
    pp.make_endpoint(
        conn, mailboxes.create(conn, other.org_id, "help@globex.test"), "mailgun", "gk"
    )
    response = client.post("/mg-delivered", json=mailgun_event("mg-delivered", key="gk"))
    assert_refused(response, 406, "signature", conn)


def test_the_signing_key_picks_the_organization_when_two_sent_the_same_message_id(
    client, conn, org, acme
):
    from pipeline.store import mailboxes

    other = make_org(conn, "Globex")
    pp.make_endpoint(
        conn, mailboxes.create(conn, other.org_id, "help@globex.test"), "mailgun", "gk"
    )
    globex_mail = sent_mail(conn, other.org_id, MESSAGE_ID)  # stored without brackets
    client.post("/mg-delivered", json=mailgun_event("mg-delivered", key="gk"))
    [row] = events(conn)
    assert (row["org_id"], row["sent_mail_id"]) == (other.org_id, globex_mail)
    assert row["message_id"] == MESSAGE_ID


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"event-data": {}}, 422, "signature"),
        ({"signature": {}}, 422, "event-data"),
        ({"signature": [], "event-data": {}}, 422, "signature"),
    ],
)
def test_a_payload_missing_its_parts_is_422(client, conn, acme, body, status, field):
    assert_refused(client.post("/mg-delivered", json=body), status, field, conn)


def test_a_missing_message_id_is_422(client, conn, acme):
    body = mailgun_event("mg-delivered")
    body["event-data"]["message"] = {"headers": {}}
    field = "event-data.message.headers.message-id"
    assert_refused(client.post("/mg-delivered", json=body), 422, field, conn)


def test_an_event_posted_to_the_wrong_path_is_422(client, conn, acme):
    response = client.post("/mg-delivered", json=mailgun_event("mg-opened"))
    assert_refused(response, 422, "event-data.event", conn)


def test_a_failure_of_the_other_severity_is_422(client, conn, acme):
    response = client.post("/mg-temporary-fail", json=mailgun_event("mg-permanent-fail"))
    assert_refused(response, 422, "event-data.severity", conn)


def test_a_body_that_is_not_json_is_400(client, conn, acme):
    response = client.post("/mg-delivered", data="nope", content_type="application/json")
    assert_refused(response, 400, None, conn)


DSN = mfs(f"""
    From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
    To: support@example.com
    Subject: Undelivered Mail Returned to Sender
    MIME-Version: 1.0
    Content-Type: multipart/report; report-type=delivery-status; boundary="RPT"

    --RPT
    Content-Type: text/plain

    Your message could not be delivered.

    --RPT
    Content-Type: message/delivery-status

    Reporting-MTA: dns; mx.example.net
    Arrival-Date: Fri, 5 May 2023 17:44:33 -0400

    Final-Recipient: rfc822; gone@example.net
    Action: failed
    Status: 5.1.1
    Diagnostic-Code: smtp; 550 5.1.1 <gone@example.net>: Recipient address rejected

    Final-Recipient: rfc822; slow@example.net
    Action: delayed
    Status: 4.4.1
    Diagnostic-Code: smtp; 451 4.4.1 try again later

    --RPT
    Content-Type: text/rfc822-headers

    From: support@example.com
    To: gone@example.net, slow@example.net
    Subject: Testing
    Message-ID: <{MESSAGE_ID}>

    --RPT--
""")


def bearer(org) -> dict[str, str]:
    return {"Authorization": f"Bearer {org.key.token}"}


def test_an_rfc3464_report_is_stored_per_recipient(client, conn, org, acme):
    response = client.post(
        "/mail-report", data=DSN, content_type="message/rfc822", headers=bearer(org)
    )
    assert response.status_code == 200, response.json
    rows = events(conn)
    summary = [(r["event"], r["recipient"], r["status_code"], r["sent_mail_id"]) for r in rows]
    assert summary == [
        ("failed_permanent", "gone@example.net", "5.1.1", acme),
        ("failed_temporary", "slow@example.net", "4.4.1", acme),
    ]
    assert rows[0]["diagnostic"].startswith("550 5.1.1")


def test_a_json_report_is_stored_once(client, conn, org, acme):
    report = {
        "message_id": MESSAGE_ID,
        "recipient": "recipient@example.com",
        "status": "2.0.0",
        "action": "delivered",
        "diagnostic": "250 OK",
    }
    first = client.post("/mail-report", json=report, headers=bearer(org))
    again = client.post("/mail-report", json=report, headers=bearer(org))
    assert first.json["data"]["duplicates"] == 0
    assert again.json["data"] == {"stored": [], "duplicates": 1}
    [row] = events(conn)
    assert (row["event"], row["provider"], row["sent_mail_id"]) == (
        "delivered",
        "mail-report",
        acme,
    )


def test_the_documents_unauthenticated_report_is_tied_to_the_sent_mail_it_names(
    client, conn, org, acme
):
    response = client.post("/mail-report", data=DSN, content_type="message/rfc822")
    assert response.status_code == 200, response.json
    assert response.json["success"] is True
    rows = events(conn)
    assert [(r["org_id"], r["sent_mail_id"], r["recipient"]) for r in rows] == [
        (org.org_id, acme, "gone@example.net"),
        (org.org_id, acme, "slow@example.net"),
    ]
    assert response.headers["X-RateLimit-Limit"] == "30"


def test_an_unauthenticated_json_report_names_its_mail_by_message_id(client, conn, org, acme):
    report = {"message_id": MESSAGE_ID, "recipient": "recipient@example.com", "action": "failed"}
    response = client.post("/mail-report", json=report)
    assert response.status_code == 200, response.json
    [row] = events(conn)
    assert (row["org_id"], row["sent_mail_id"], row["event"]) == (
        org.org_id,
        acme,
        "failed_permanent",
    )


@pytest.mark.parametrize(
    "body",
    [
        DSN.replace(MESSAGE_ID.encode(), b"someone-elses@example.org"),
        {"message_id": "<unknown@example.org>", "recipient": "a@example.com", "action": "failed"},
    ],
)
def test_an_unauthenticated_report_naming_no_mail_of_ours_is_refused(client, conn, acme, body):
    if isinstance(body, dict):
        response = client.post("/mail-report", json=body)
    else:
        response = client.post("/mail-report", data=body, content_type="message/rfc822")
    assert_refused(response, 422, "message_id", conn)


def test_an_unauthenticated_report_is_bounded_in_size(client, conn, acme, settings):
    huge = DSN + b"x" * settings.mail_report_max_bytes
    response = client.post("/mail-report", data=huge, content_type="message/rfc822")
    assert_refused(response, 413, "message", conn)


def test_unauthenticated_reports_are_rate_limited_by_client_address(client, conn, acme, settings):
    unknown = {"message_id": "<nope@example.org>", "recipient": "a@example.com", "action": "failed"}
    for _ in range(settings.mail_report_per_minute):
        assert client.post("/mail-report", json=unknown).status_code == 422
    response = client.post("/mail-report", json=unknown)
    assert_refused(response, 429, None, conn)
    assert int(response.headers["Retry-After"]) >= 1
    other = client.post("/mail-report", json=unknown, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 422


def test_a_report_with_a_wrong_key_is_a_401(client, conn, org, acme):
    wrong = {"Authorization": f"Bearer {org.key.key}.wrong"}
    assert_refused(client.post("/mail-report", data=DSN, headers=wrong), 401, None, conn)


def test_a_report_needs_the_write_scope(client, conn, acme):
    reader = make_org(conn, "Reader", scopes=("read",))
    response = client.post("/mail-report", data=DSN, headers=bearer(reader))
    assert_refused(response, 403, None, conn)


def test_a_report_is_kept_in_the_reporting_organization_only(client, conn, acme):
    other = make_org(conn, "Globex")
    client.post("/mail-report", data=DSN, headers=bearer(other))
    rows = events(conn)
    assert {r["org_id"] for r in rows} == {other.org_id}
    assert {r["sent_mail_id"] for r in rows} == {None}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"recipient": "a@example.com", "action": "failed"}, "message_id"),
        ({"message_id": "x@y", "recipient": "a@example.com", "action": "bounced"}, "action"),
        ({"message_id": 5, "recipient": "a@example.com", "action": "failed"}, "message_id"),
    ],
)
def test_a_bad_json_report_is_422(client, conn, org, acme, body, field):
    response = client.post("/mail-report", json=body, headers=bearer(org))
    assert_refused(response, 422, field, conn)


def test_a_message_that_is_not_a_report_is_422(client, conn, org, acme):
    plain = mfs("""
        From: a@example.org
        Subject: hello

        not a report
    """)
    response = client.post("/mail-report", data=plain, headers=bearer(org))
    assert_refused(response, 422, "body", conn)


def test_an_empty_report_is_422(client, conn, org, acme):
    assert_refused(client.post("/mail-report", data=b"", headers=bearer(org)), 422, "body", conn)


def test_a_report_that_is_not_json_is_400(client, conn, org, acme):
    response = client.post(
        "/mail-report", data="{x", content_type="application/json", headers=bearer(org)
    )
    assert_refused(response, 400, None, conn)


def test_a_report_over_the_size_limit_is_413(app, conn, org, acme):
    with pp.overridden(app, max_message_bytes=len(DSN) - 1) as small:
        response = small.post("/mail-report", data=DSN, headers=bearer(org))
    assert_refused(response, 413, "message", conn)
