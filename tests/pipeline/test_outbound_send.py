"""Outbound sender: queue a mail, send it through a real SMTP relay (an aiosmtpd sink)."""

from __future__ import annotations

import threading
from email import message_from_bytes, policy

import pytest

from pipeline import crypto
from pipeline.errors import InputError
from pipeline.mail.reply_tokens import token_of, verify_token
from pipeline.outbound.compose import OutboundAttachment
from pipeline.outbound.send import OutboundMail, deliver, queue_mail
from pipeline.store import send_configs
from tests.helpers import accept, mfs, relay_to, run_pipeline, wait_for

QUESTION = mfs("""
    From: Carol <carol@example.org>
    To: support@example.com
    Subject: Invoice missing
    Message-ID: <invoice@example.org>
    References: <older@example.org>

    Where is my invoice?
""")


def queue(pool, org_id, mail, settings):
    with pool.connection() as conn, conn.transaction():
        return queue_mail(conn, org_id, mail, settings)


def status_of(conn, sent_mail_id):
    return conn.execute("SELECT * FROM sent_mails WHERE id = %s", (sent_mail_id,)).fetchone()


def test_queued_mail_goes_out_with_intake_message_id_reply_token_and_threading(
    pool, conn, org, mailbox, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink)
    message_id = accept(pool, QUESTION, mailbox)
    run_pipeline(pool, message_id)
    ticket_id = conn.execute(
        "SELECT ticket_id FROM messages WHERE id = %s", (message_id,)
    ).fetchone()["ticket_id"]
    mail = OutboundMail(
        to=("carol@example.org",),
        cc=("boss@example.org",),
        bcc=("audit@example.net",),
        subject="Re: Invoice missing",
        text="Here it is.",
        kind="agent_reply",
        ticket_id=ticket_id,
        in_reply_to_message=message_id,
    )
    sent_id, job = queue(pool, org.org_id, mail, settings)
    assert (job.actor, job.args) == ("send_mail", (sent_id,))
    assert status_of(conn, sent_id)["status"] == "queued"

    result = deliver(pool, sent_id, settings)

    assert result.status == "sent"
    [received] = smtp_sink.messages
    assert sorted(received.rcpt_tos) == [
        "audit@example.net",
        "boss@example.org",
        "carol@example.org",
    ]
    parsed = message_from_bytes(received.data, policy=policy.default)
    assert parsed["Message-ID"].endswith(f"@{settings.message_id_domain}>")
    assert parsed["In-Reply-To"] == "<invoice@example.org>"
    assert parsed["References"] == "<older@example.org> <invoice@example.org>"
    assert "Bcc" not in parsed
    assert parsed["Auto-Submitted"] is None
    token = token_of(str(parsed["Reply-To"]))
    assert verify_token(settings.secret_key, org.org_id, token) == ticket_id
    row = status_of(conn, sent_id)
    assert row["status"] == "sent"
    assert row["message_id"] == parsed["Message-ID"]
    assert row["smtp_response"].startswith("250 2.0.0 Ok: queued as SINK1")
    assert row["sent_at"] is not None and row["attempts"] == 1


def test_html_text_and_attachments_compose_one_multipart_message(
    pool, conn, org, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink)
    mail = OutboundMail(
        to=("dan@example.org",),
        subject="Report",
        text="See attached.",
        html="<p>See <b>attached</b>.</p>",
        attachments=(OutboundAttachment("report.pdf", b"%PDF-1.4 data", "application/pdf"),),
        from_email="reports@example.com",
        from_name="Reports",
        reply_to="replies@example.com",
        tags=("monthly",),
    )
    sent_id, _ = queue(pool, org.org_id, mail, settings)
    deliver(pool, sent_id, settings)

    parsed = message_from_bytes(smtp_sink.messages[0].data, policy=policy.default)
    assert parsed["From"] == "Reports <reports@example.com>"
    assert parsed["Reply-To"] == "replies@example.com"
    assert parsed.get_body(("plain",)).get_content().strip() == "See attached."
    assert "<b>attached</b>" in parsed.get_body(("html",)).get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "report.pdf"
    assert attachment.get_content() == b"%PDF-1.4 data"
    row = status_of(conn, sent_id)
    assert row["attachments"] == [
        {"filename": "report.pdf", "mime_type": "application/pdf", "size": 13}
    ]
    assert row["tags"] == ["monthly"]


def test_config_id_picks_the_relay_and_the_default_is_used_otherwise(
    pool, conn, org, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink, from_email="default@example.com")
    other = relay_to(conn, org.org_id, smtp_sink, from_email="other@example.com", is_default=False)
    first, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    second, _ = queue(
        pool,
        org.org_id,
        OutboundMail(to=("a@example.org",), subject="y", text="y", config_id=other.id),
        settings,
    )
    assert status_of(conn, first)["from_address"] == "default@example.com"
    assert status_of(conn, second)["from_address"] == "other@example.com"


def test_queueing_without_a_relay_or_a_body_names_the_field(pool, org, settings, conn, smtp_sink):
    mail = OutboundMail(to=("a@example.org",), subject="x", text="x")
    with pytest.raises(InputError) as missing:
        queue(pool, org.org_id, mail, settings)
    assert missing.value.field == "config_id"
    relay_to(conn, org.org_id, smtp_sink)
    with pytest.raises(InputError) as empty:
        queue(pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x"), settings)
    assert empty.value.field == "text"
    other = make_other_org_config(conn, smtp_sink)
    with pytest.raises(InputError):
        queue(
            pool,
            org.org_id,
            OutboundMail(to=("a@example.org",), subject="x", text="x", config_id=other),
            settings,
        )


def make_other_org_config(conn, sink):
    from tests.helpers import make_org

    return relay_to(conn, make_org(conn, "Other").org_id, sink).id


def test_permanent_failure_is_recorded_with_the_reply_and_never_retried(
    pool, conn, org, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink)
    smtp_sink.answer_next("550 5.1.1 No such user")
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("ghost@example.org",), subject="x", text="x"), settings
    )

    result = deliver(pool, sent_id, settings)

    assert result.status == "failed"
    row = status_of(conn, sent_id)
    assert row["status"] == "failed"
    assert row["error"] == "550 5.1.1 No such user"
    assert deliver(pool, sent_id, settings) is None
    assert smtp_sink.messages == []


def test_temporary_failure_goes_back_to_the_queue_and_fails_on_the_last_attempt(
    pool, conn, org, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink)
    smtp_sink.answer_next("451 4.3.0 Try again later", "452 4.2.2 Mailbox full")
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )

    assert deliver(pool, sent_id, settings).status == "queued"
    assert status_of(conn, sent_id)["error"] == "451 4.3.0 Try again later"
    assert deliver(pool, sent_id, settings, last_attempt=True).status == "failed"
    row = status_of(conn, sent_id)
    assert (row["status"], row["attempts"], row["error"]) == ("failed", 2, "452 4.2.2 Mailbox full")


def test_an_unreachable_relay_is_a_temporary_failure(pool, conn, org, settings):
    from tests.conftest import free_port

    send_configs.create_config(
        conn,
        org.org_id,
        name="down",
        host="127.0.0.1",
        port=free_port(),
        tls_mode="none",
        from_email="support@example.com",
        is_default=True,
    )
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    result = deliver(pool, sent_id, settings)
    assert result.status == "queued"
    assert "ConnectionRefused" in status_of(conn, sent_id)["error"]


def test_a_relay_on_a_private_address_is_refused_unless_the_operator_allows_it(
    pool, conn, org, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink)
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    result = deliver(pool, sent_id, settings.with_overrides(fetch_allow_private=False))
    assert result.status == "failed"
    assert "not a public address" in status_of(conn, sent_id)["error"]
    assert smtp_sink.messages == []


def test_a_sent_mail_is_never_sent_twice_by_redelivered_or_concurrent_jobs(
    pool, conn, org, settings, smtp_sink
):
    relay_to(conn, org.org_id, smtp_sink)
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(deliver(pool, sent_id, settings)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert deliver(pool, sent_id, settings) is None
    assert len(smtp_sink.messages) == 1
    assert sorted(r.status for r in results if r is not None) == ["sent"]
    assert status_of(conn, sent_id)["attempts"] == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_relay_password_is_stored_encrypted_and_used_to_log_in(pool, conn, org, settings):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.conftest import free_port
    from tests.sinks import SinkHandler

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret!")

    handler, port = SinkHandler(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_required=True,
    )
    controller.start()
    try:
        send_configs.create_config(
            conn,
            org.org_id,
            name="auth",
            host="127.0.0.1",
            port=port,
            tls_mode="none",
            from_email="support@example.com",
            username="relay-user",
            password_enc=crypto.encrypt(settings.secret_key, "s3cret!"),
            is_default=True,
        )
        stored = conn.execute("SELECT password_enc FROM send_configs").fetchone()["password_enc"]
        assert b"s3cret!" not in bytes(stored)
        sent_id, _ = queue(
            pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
        )
        assert deliver(pool, sent_id, settings).status == "sent"
    finally:
        controller.stop()
    assert logins == [(b"relay-user", b"s3cret!")]
    assert len(handler.messages) == 1


def test_worker_retries_a_temporary_failure_with_backoff_until_the_relay_accepts(
    pool, conn, org, settings, smtp_sink, worker
):
    from workers.outbound import send_mail

    relay_to(conn, org.org_id, smtp_sink)
    smtp_sink.answer_next("421 4.7.0 Too busy", "451 4.3.0 Try again later")
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )

    send_mail.send_with_options(args=(sent_id,), min_backoff=50, max_backoff=200)

    row = wait_for(
        lambda: conn.execute(
            "SELECT * FROM sent_mails WHERE id = %s AND status = 'sent'", (sent_id,)
        ).fetchone()
    )
    assert row["attempts"] == 3
    assert len(smtp_sink.messages) == 1


def test_worker_records_a_permanent_failure_once(pool, conn, org, settings, smtp_sink, worker):
    from workers.outbound import send_mail

    relay_to(conn, org.org_id, smtp_sink)
    smtp_sink.answer_next("554 5.7.1 Rejected")
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    send_mail.send_with_options(args=(sent_id,), min_backoff=50, max_backoff=200)
    send_mail.send_with_options(args=(sent_id,), min_backoff=50, max_backoff=200)  # redelivery

    wait_for(lambda: status_of(conn, sent_id)["status"] == "failed")
    worker.join()
    row = status_of(conn, sent_id)
    assert (row["attempts"], row["error"]) == (1, "554 5.7.1 Rejected")
    assert smtp_sink.messages == []


def test_a_web_process_hands_the_send_job_to_the_workers(
    app, pool, conn, org, settings, smtp_sink, worker
):
    relay_to(conn, org.org_id, smtp_sink)
    sent_id, job = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    app.extensions["intake_queue"].send(job)
    wait_for(lambda: status_of(conn, sent_id)["status"] == "sent")
    assert len(smtp_sink.messages) == 1


def test_the_scheduler_resends_mail_whose_first_job_was_lost(pool, conn, org, settings, smtp_sink):
    from workers.scheduler import requeue_lost_mail

    relay_to(conn, org.org_id, smtp_sink)
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    found = []
    assert requeue_lost_mail(pool, found.append) == 0  # its job may still run
    conn.execute("UPDATE sent_mails SET updated_at = now() - interval '1 hour'")
    assert requeue_lost_mail(pool, found.append) == 1
    assert requeue_lost_mail(pool, found.append) == 0  # not again at once
    deliver(pool, sent_id, settings)
    conn.execute("UPDATE sent_mails SET updated_at = now() - interval '1 hour'")
    assert requeue_lost_mail(pool, found.append) == 0  # attempted mail is Dramatiq's
    assert found == [sent_id]


def test_a_relay_name_that_does_not_resolve_is_retried_not_failed(pool, conn, org, settings):
    send_configs.create_config(
        conn,
        org.org_id,
        name="typo",
        host="relay.nonexistent.invalid",
        port=25,
        tls_mode="none",
        from_email="support@example.com",
        is_default=True,
    )
    sent_id, _ = queue(
        pool, org.org_id, OutboundMail(to=("a@example.org",), subject="x", text="x"), settings
    )
    assert deliver(pool, sent_id, settings).status == "queued"
    assert "cannot resolve" in status_of(conn, sent_id)["error"]
