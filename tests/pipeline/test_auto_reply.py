"""Auto-reply on new tickets: once per sender per window, never to automatic mail."""

from __future__ import annotations

from email import message_from_bytes, policy

from pipeline.outbound.send import deliver
from pipeline.store import outbound
from tests.helpers import accept, mfs, relay_to, run_pipeline


def mail(number: int, sender: str = "erin@example.org", extra: str = "") -> bytes:
    headers = f"{extra}\n" if extra else ""
    return mfs(
        f"From: Erin <{sender}>\n"
        "To: support@example.com\n"
        f"Subject: Question {number}\n"
        f"Message-ID: <q{number}@example.org>\n"
        f"{headers}\n"
        "Body.\n"
    )


def enable_auto_reply(conn, org_id, sink, window_seconds=3600):
    conn.execute(
        """UPDATE organizations SET auto_reply_enabled = true, auto_reply_subject = 'Got it',
                  auto_reply_body = 'We will answer soon.', auto_reply_window_seconds = %s
           WHERE id = %s""",
        (window_seconds, org_id),
    )
    relay_to(conn, org_id, sink)


def auto_replies(conn):
    return conn.execute("SELECT * FROM sent_mails WHERE kind = 'auto_reply' ORDER BY id").fetchall()


def process(pool, raw, mailbox):
    message_id = accept(pool, raw, mailbox)
    run_pipeline(pool, message_id)
    return message_id


def test_a_new_ticket_gets_one_auto_reply_marked_auto_submitted_and_threaded(
    pool, conn, org, mailbox, settings, smtp_sink
):
    enable_auto_reply(conn, org.org_id, smtp_sink)
    message_id = process(pool, mail(1), mailbox)

    [reply] = auto_replies(conn)
    ticket = conn.execute("SELECT * FROM tickets").fetchone()
    analysis = conn.execute("SELECT analysis FROM messages WHERE id = %s", (message_id,))
    assert analysis.fetchone()["analysis"]["auto_reply"] == {
        "sent_mail_id": reply["id"],
        "to": "erin@example.org",
    }
    assert (reply["ticket_id"], reply["in_reply_to_message"]) == (ticket["id"], message_id)
    assert reply["to_addresses"] == ["erin@example.org"]
    assert deliver(pool, reply["id"], settings).status == "sent"
    parsed = message_from_bytes(smtp_sink.messages[0].data, policy=policy.default)
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["X-Auto-Response-Suppress"] == "All"
    assert parsed["Subject"] == f"Got it [#{ticket['number']}]"
    assert parsed["In-Reply-To"] == "<q1@example.org>"
    assert parsed["Reply-To"].startswith(f"support+{ticket['id']}-")
    assert parsed.get_content().strip() == "We will answer soon."


def test_a_sender_gets_at_most_one_auto_reply_per_window(pool, conn, org, mailbox, smtp_sink):
    enable_auto_reply(conn, org.org_id, smtp_sink)
    process(pool, mail(1), mailbox)
    second = process(pool, mail(2, sender="ERIN@example.org"), mailbox)
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 2
    assert len(auto_replies(conn)) == 1
    analysis = conn.execute("SELECT analysis FROM messages WHERE id = %s", (second,))
    assert analysis.fetchone()["analysis"]["auto_reply"] == {
        "skipped": "already answered within the window"
    }

    conn.execute("UPDATE auto_reply_log SET last_sent_at = now() - interval '2 hours'")
    process(pool, mail(3), mailbox)
    assert len(auto_replies(conn)) == 2


def test_each_sender_has_its_own_window(pool, conn, org, mailbox, smtp_sink):
    enable_auto_reply(conn, org.org_id, smtp_sink)
    process(pool, mail(1), mailbox)
    process(pool, mail(2, sender="frank@example.org"), mailbox)
    assert [r["to_addresses"] for r in auto_replies(conn)] == [
        ["erin@example.org"],
        ["frank@example.org"],
    ]


def test_automatic_mail_never_gets_an_auto_reply(pool, conn, org, mailbox, settings, smtp_sink):
    enable_auto_reply(conn, org.org_id, smtp_sink)
    automatic = [
        "Auto-Submitted: auto-replied",
        "Auto-Submitted: auto-generated",
        "Precedence: bulk",
        "List-Id: <news.example.org>",
        "X-Autoreply: yes",
        "X-Auto-Response-Suppress: OOF, AutoReply",
    ]
    for number, header in enumerate(automatic, start=1):
        process(pool, mail(number, sender=f"robot{number}@example.org", extra=header), mailbox)
    process(pool, mail(50, sender="mailer-daemon@example.org"), mailbox)
    process(pool, mail(51, sender="support+7-abc@example.com"), mailbox)  # our own mailbox
    process(pool, mail(52, sender=f"loop@{settings.message_id_domain}"), mailbox)
    assert auto_replies(conn) == []
    process(pool, mail(99, extra="Auto-Submitted: no"), mailbox)
    assert len(auto_replies(conn)) == 1


def test_a_null_return_path_gets_no_auto_reply(pool, conn, org, mailbox, smtp_sink):
    from pipeline.intake import accept_raw
    from pipeline.records import Envelope

    enable_auto_reply(conn, org.org_id, smtp_sink)
    with pool.connection() as c, c.transaction():
        message_id = accept_raw(c, mail(1), Envelope("", (mailbox.address,)), "smtp", mailbox)
    run_pipeline(pool, message_id)
    # RFC 5321 §4.5.5: a null reverse path marks automatic mail; the filter stops it first.
    state = conn.execute("SELECT state FROM messages WHERE id = %s", (message_id,)).fetchone()
    assert state["state"] == "filtered"
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 0
    assert auto_replies(conn) == []


def test_no_auto_reply_when_disabled_or_without_a_relay(pool, conn, org, mailbox, smtp_sink):
    process(pool, mail(1), mailbox)
    assert auto_replies(conn) == []
    conn.execute("UPDATE organizations SET auto_reply_enabled = true")
    process(pool, mail(2), mailbox)  # enabled, but no send configuration
    assert auto_replies(conn) == []


def test_a_reply_on_an_existing_ticket_gets_no_auto_reply(pool, conn, org, mailbox, smtp_sink):
    enable_auto_reply(conn, org.org_id, smtp_sink, window_seconds=0)
    process(pool, mail(1), mailbox)
    reply = mfs("""
        From: erin@example.org
        To: support@example.com
        Subject: Re: Question 1
        Message-ID: <q1-reply@example.org>
        In-Reply-To: <q1@example.org>

        More details.
    """)
    process(pool, reply, mailbox)
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1
    assert len(auto_replies(conn)) == 1


def test_the_ticket_stage_returns_the_send_job_for_after_commit(
    pool, conn, org, mailbox, settings, smtp_sink
):
    from pipeline.context import StageContext
    from pipeline.runner import run_stage

    enable_auto_reply(conn, org.org_id, smtp_sink)
    message_id = accept(pool, mail(1), mailbox)
    ctx = StageContext(settings)
    stage = "parse"
    while stage != "ticket":
        stage = run_stage(pool, stage, message_id, ctx).next_stage
    result = run_stage(pool, "ticket", message_id, ctx)
    [reply] = auto_replies(conn)
    assert [(j.actor, j.args) for j in result.jobs] == [("send_mail", (reply["id"],))]


def test_concurrent_tickets_from_one_sender_reserve_one_auto_reply(pool, org):
    import threading

    first_reserved = threading.Event()
    results = {}

    def first():
        with pool.connection() as c, c.transaction():
            results["first"] = outbound.claim_auto_reply_slot(c, org.org_id, "ivy@example.org", 60)
            first_reserved.set()
            second_thread.join(timeout=0.5)  # the second waits on our row lock meanwhile

    def second():
        first_reserved.wait()
        with pool.connection() as c, c.transaction():
            results["second"] = outbound.claim_auto_reply_slot(c, org.org_id, "Ivy@Example.org", 60)

    second_thread = threading.Thread(target=second)
    first_thread = threading.Thread(target=first)
    second_thread.start()
    first_thread.start()
    first_thread.join()
    second_thread.join()
    assert results == {"first": True, "second": False}
