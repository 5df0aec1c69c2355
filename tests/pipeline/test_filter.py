"""filter: excluded senders, ignored subjects, auto-replies and loops, bounces, floods."""

from __future__ import annotations

import smtplib
from pathlib import Path

from config import load_settings
from pipeline.context import StageContext
from pipeline.runner import run_stage
from pipeline.store import filter_lists
from tests.helpers import accept, mfs, run_pipeline, wait_for

DATA = Path(__file__).resolve().parent.parent / "data"


def mail(sender="Alice <alice@example.org>", subject="Question", extra="", mid="q-1@example.org"):
    return mfs(
        f"""
        From: {sender}
        To: support@example.com
        Subject: {subject}
        Message-ID: <{mid}>
        {extra}

        Hello.
    """.replace("\n        \n", "\n")
    )


def _run(pool, conn, mailbox, raw: bytes) -> dict:
    message_id = accept(pool, raw, mailbox)
    run_pipeline(pool, message_id)
    return conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()


def _tickets(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"]


def test_ordinary_mail_passes_and_the_decision_is_recorded(pool, conn, mailbox):
    row = _run(pool, conn, mailbox, mail())
    assert row["state"] == "done"
    assert row["analysis"]["filter"]["verdict"] == "pass"
    assert row["analysis"]["filter"]["flood"]["recent"] == 0


def test_an_excluded_exact_address_is_filtered_and_opens_no_ticket(pool, conn, mailbox, org):
    filter_lists.add(conn, "excluded_emails", org.org_id, "Alice@Example.org")
    row = _run(pool, conn, mailbox, mail())
    assert row["state"] == "filtered"
    assert row["analysis"]["filter"]["reason"] == "excluded_sender"
    assert row["analysis"]["filter"]["hits"][0]["pattern"] == "alice@example.org"
    assert row["ticket_id"] is None and _tickets(conn) == 0
    assert "ticket" not in row["analysis"]


def test_an_excluded_domain_filters_everyone_there(pool, conn, mailbox, org):
    filter_lists.add(conn, "excluded_emails", org.org_id, "@example.org")
    assert _run(pool, conn, mailbox, mail())["state"] == "filtered"
    assert _run(pool, conn, mailbox, mail("x@example.net", mid="q-2@x"))["state"] == "done"


def test_an_excluded_user_at_any_domain_filters_that_user_everywhere(pool, conn, mailbox, org):
    filter_lists.add(conn, "excluded_emails", org.org_id, "noreply@*")
    assert _run(pool, conn, mailbox, mail("noreply@shop.example"))["state"] == "filtered"
    assert _run(pool, conn, mailbox, mail("alice@shop.example", mid="q-2@x"))["state"] == "done"


def test_an_ignored_subject_matches_as_a_case_insensitive_substring(pool, conn, mailbox, org):
    filter_lists.add(conn, "ignored_subjects", org.org_id, "newsletter")
    row = _run(pool, conn, mailbox, mail(subject="Our NEWSLETTER for June"))
    assert row["state"] == "filtered"
    assert row["analysis"]["filter"]["hits"][0] == {
        "rule": "ignored_subject",
        "subject": "Our NEWSLETTER for June",
        "pattern": "newsletter",
    }


def test_an_rfc3834_auto_submitted_mail_is_filtered(pool, conn, mailbox):
    row = _run(pool, conn, mailbox, mail(extra="Auto-Submitted: auto-replied"))
    assert row["analysis"]["filter"]["reason"] == "auto_submitted"
    assert _run(pool, conn, mailbox, mail(extra="Auto-Submitted: no", mid="b@x"))["state"] == "done"


def test_precedence_bulk_and_list_headers_are_filtered(pool, conn, mailbox):
    bulk = _run(pool, conn, mailbox, mail(extra="Precedence: bulk"))
    listed = _run(pool, conn, mailbox, mail(extra="List-Id: <news.example.org>", mid="l@x"))
    assert (bulk["analysis"]["filter"]["reason"], listed["analysis"]["filter"]["reason"]) == (
        "precedence",
        "mailing_list",
    )


def test_an_x_loop_header_is_filtered_as_a_loop(pool, conn, mailbox):
    row = _run(pool, conn, mailbox, mail(extra="X-Loop: helpdesk@example.org"))
    assert row["analysis"]["filter"]["reason"] == "x_loop"


def test_our_own_message_id_coming_back_is_filtered_as_a_loop(pool, conn, mailbox):
    domain = load_settings().message_id_domain
    row = _run(pool, conn, mailbox, mail(mid=f"auto-reply-9@{domain}"))
    assert row["analysis"]["filter"]["reason"] == "own_message_id"
    assert _tickets(conn) == 0


def test_a_mailer_daemon_sender_is_filtered(pool, conn, mailbox):
    row = _run(pool, conn, mailbox, mail(sender="MAILER-DAEMON@mx.example.net"))
    assert row["analysis"]["filter"]["reason"] == "daemon_sender"


def test_an_out_of_office_subject_is_filtered(pool, conn, mailbox):
    row = _run(pool, conn, mailbox, mail(subject="Abwesenheitsnotiz: Question"))
    assert row["analysis"]["filter"]["reason"] == "out_of_office_subject"


def test_a_null_sender_over_real_smtp_is_filtered(smtp_server, worker, conn, mailbox):
    with smtplib.SMTP(smtp_server.hostname, smtp_server.port) as smtp:
        smtp.sendmail("", ["support@example.com"], mail(subject="Delivery report"))
    row = wait_for(
        lambda: conn.execute(
            "SELECT * FROM messages WHERE state NOT IN ('received', 'processing')"
        ).fetchone()
    )
    assert row["envelope_from"] == "<>"
    assert row["state"] == "filtered"
    assert row["analysis"]["filter"]["reason"] == "null_sender"


def test_a_flood_from_one_sender_is_held_past_the_limit(pool, conn, mailbox, org):
    conn.execute("UPDATE organizations SET flood_limit = 2 WHERE id = %s", (org.org_id,))
    states = [_run(pool, conn, mailbox, mail(mid=f"f{i}@x"))["state"] for i in range(3)]
    assert states == ["done", "done", "held"]
    held = conn.execute("SELECT analysis FROM messages WHERE state = 'held'").fetchone()
    assert held["analysis"]["filter"]["reason"] == "flood"
    assert held["analysis"]["filter"]["recent"] == 2
    assert _run(pool, conn, mailbox, mail("bob@example.org", mid="b@x"))["state"] == "done"


def _sent_mail(conn, org, message_id: str) -> int:
    return conn.execute(
        """INSERT INTO sent_mails (org_id, kind, message_id, from_address, to_addresses, subject)
           VALUES (%s, 'auto_reply', %s, 'support@example.com', '{nobody@example.net}', 'Hi')
           RETURNING id""",
        (org.org_id, message_id),
    ).fetchone()["id"]


def test_a_bounce_becomes_a_delivery_event_on_the_sent_mail_it_refers_to(pool, conn, mailbox, org):
    sent_id = _sent_mail(conn, org, "<auto-reply-1@intake.local>")
    row = _run(pool, conn, mailbox, (DATA / "dsn-5.1.1.eml").read_bytes())
    assert (row["state"], row["analysis"]["filter"]["reason"]) == ("filtered", "bounce")
    event = conn.execute("SELECT * FROM delivery_events").fetchone()
    assert event["sent_mail_id"] == sent_id
    assert event["source_message_id"] == row["id"]
    assert (event["event"], event["provider"], event["recipient"]) == (
        "failed_permanent",
        "dsn",
        "nobody@example.net",
    )
    assert event["status_code"] == "5.1.1"
    assert event["diagnostic"].startswith("550 5.1.1 <nobody@example.net>: Recipient address")
    assert event["message_id"] == "<auto-reply-1@intake.local>"
    sent = conn.execute("SELECT last_event FROM sent_mails WHERE id = %s", (sent_id,)).fetchone()
    assert sent["last_event"] == "failed_permanent"
    assert _tickets(conn) == 0


def test_a_read_receipt_report_is_filtered_without_a_delivery_event(pool, conn, mailbox):
    raw = mail(
        extra='Content-Type: multipart/report; report-type=disposition-notification; boundary="b"'
    )
    row = _run(pool, conn, mailbox, raw)
    assert row["analysis"]["filter"]["reason"] == "report"
    assert conn.execute("SELECT count(*) AS n FROM delivery_events").fetchone()["n"] == 0


def test_filtered_mail_stays_listed_through_the_api_with_its_reason(
    pool, conn, mailbox, client, org
):
    row = _run(pool, conn, mailbox, mail(extra="Precedence: junk"))
    listed = client.get("/api/emails", headers=org.headers).json["data"]
    assert [(e["id"], e["state"]) for e in listed] == [(row["id"], "filtered")]
    detail = client.get(f"/api/emails/{row['id']}", headers=org.headers).json["data"]
    assert detail["analysis"]["filter"]["reason"] == "precedence"


def test_filter_runs_twice_changes_nothing(pool, conn, mailbox, org):
    _sent_mail(conn, org, "<auto-reply-1@intake.local>")
    message_id = accept(pool, (DATA / "dsn-5.1.1.eml").read_bytes(), mailbox)
    run_pipeline(pool, message_id)
    before = conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()
    ctx = StageContext(load_settings())
    assert run_stage(pool, "filter", message_id, ctx) is None
    # the stage logic itself, replayed, records no second delivery event
    from pipeline.stages import filter as filter_stage
    from pipeline.store import messages

    with pool.connection() as c, c.transaction():
        msg = messages.get(c, org.org_id, message_id)
        assert filter_stage.run(c, msg, ctx).reason == "bounce"
    after = conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()
    assert after == before
    assert conn.execute("SELECT count(*) AS n FROM delivery_events").fetchone()["n"] == 1


def test_a_deleted_rule_no_longer_filters(pool, conn, mailbox, org):
    excluded = filter_lists.add(conn, "excluded_emails", org.org_id, "alice@example.org")
    ignored = filter_lists.add(conn, "ignored_subjects", org.org_id, "question")
    assert filter_lists.remove(conn, "excluded_emails", org.org_id, excluded["id"])
    assert filter_lists.remove(conn, "ignored_subjects", org.org_id, ignored["id"])
    assert not filter_lists.remove(conn, "ignored_subjects", org.org_id, ignored["id"])
    assert filter_lists.filter_rules(conn, org.org_id).excluded_emails == []
    assert _run(pool, conn, mailbox, mail())["state"] == "done"


def test_an_abuse_report_becomes_a_complaint_on_the_sent_mail(pool, conn, mailbox, org):
    sent_id = _sent_mail(conn, org, "<auto-reply-2@intake.local>")
    row = _run(pool, conn, mailbox, (DATA / "arf-abuse-complaint.eml").read_bytes())
    assert (row["state"], row["analysis"]["filter"]["reason"]) == ("filtered", "complaint")
    event = conn.execute("SELECT * FROM delivery_events").fetchone()
    assert (event["event"], event["provider"], event["sent_mail_id"]) == (
        "complained",
        "arf",
        sent_id,
    )


def test_a_free_form_bounce_quoting_our_mail_still_becomes_a_delivery_event(
    pool, conn, mailbox, org
):
    sent_id = _sent_mail(conn, org, "<auto-reply-3@intake.local>")
    row = _run(pool, conn, mailbox, (DATA / "bounce-plain-text-qmail.eml").read_bytes())
    assert (row["state"], row["analysis"]["filter"]["reason"]) == ("filtered", "bounce")
    event = conn.execute("SELECT * FROM delivery_events").fetchone()
    assert (event["event"], event["sent_mail_id"], event["status_code"]) == (
        "failed_permanent",
        sent_id,
        "5.1.1",
    )
    assert event["diagnostic"].startswith("Remote host said: 550 5.1.1")


def test_a_daemon_mail_quoting_no_mail_of_ours_is_only_filtered(pool, conn, mailbox):
    raw = (DATA / "bounce-plain-text-qmail.eml").read_bytes().replace(b"@intake.local", b"@x.org")
    row = _run(pool, conn, mailbox, raw)
    assert row["analysis"]["filter"]["reason"] == "daemon_sender"
    assert conn.execute("SELECT count(*) AS n FROM delivery_events").fetchone()["n"] == 0
