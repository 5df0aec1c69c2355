"""notify: the message's events are raised once for the subscriptions that want them."""

from __future__ import annotations

from pipeline import crypto
from pipeline.context import StageContext
from pipeline.stages import notify
from pipeline.store import messages, webhooks
from tests.helpers import accept, mfs, run_pipeline

FIRST = mfs("""
    From: Gina <gina@example.org>
    To: support@example.com
    Subject: Broken link
    Message-ID: <link@example.org>

    The link on the pricing page is broken.
""")

REPLY = mfs("""
    From: gina@example.org
    To: support@example.com
    Subject: Re: Broken link
    Message-ID: <link-2@example.org>
    In-Reply-To: <link@example.org>

    Still broken.
""")

ALL = ["email.received", "ticket.created", "ticket.replied"]


def subscribe(conn, org_id, settings, events=ALL, url="https://hooks.example.net/in", active=True):
    secret = crypto.encrypt(settings.secret_key, "whsec_test")
    return webhooks.create(conn, org_id, url, events, secret, active)


def events(conn):
    return conn.execute(
        """SELECT e.type, e.dedupe_key, e.payload, d.webhook_id, d.status, d.attempt
           FROM webhook_events e JOIN webhook_deliveries d ON d.event_id = e.id
           ORDER BY e.created_at, d.id"""
    ).fetchall()


def test_a_new_mail_raises_email_received_and_ticket_created_and_is_marked_notified(
    pool, conn, org, mailbox, settings
):
    hook = subscribe(conn, org.org_id, settings)
    message_id = accept(pool, FIRST, mailbox)
    run_pipeline(pool, message_id)

    raised = events(conn)
    by_type = {e["type"]: e for e in raised}
    assert sorted(by_type) == ["email.received", "ticket.created"] and len(raised) == 2
    assert {(e["webhook_id"], e["status"], e["attempt"]) for e in raised} == {
        (hook["id"], "pending", 1)
    }
    received = by_type["email.received"]["payload"]
    assert received["id"] == message_id
    assert received["subject"] == "Broken link"
    assert received["from_address"] == "gina@example.org"
    ticket = by_type["ticket.created"]["payload"]
    assert ticket["number"] == 1 and ticket["email"]["id"] == message_id
    row = conn.execute("SELECT notified, analysis FROM messages WHERE id = %s", (message_id,))
    row = row.fetchone()
    assert row["notified"] is True
    assert row["analysis"]["notify"] == {"events": ["email.received", "ticket.created"]}


def test_a_reply_raises_ticket_replied(pool, conn, org, mailbox, settings):
    subscribe(conn, org.org_id, settings, events=["ticket.replied"])
    run_pipeline(pool, accept(pool, FIRST, mailbox))
    reply_id = accept(pool, REPLY, mailbox)
    run_pipeline(pool, reply_id)
    [replied] = events(conn)
    assert replied["type"] == "ticket.replied"
    assert replied["dedupe_key"] == f"ticket.replied:{reply_id}"
    assert replied["payload"]["exchange_count"] == 2


def test_only_active_subscriptions_to_the_type_get_a_delivery(pool, conn, org, mailbox, settings):
    wants_received = subscribe(conn, org.org_id, settings, events=["email.received"])
    subscribe(conn, org.org_id, settings, events=["voicemail.received"])
    subscribe(conn, org.org_id, settings, events=ALL, active=False)
    run_pipeline(pool, accept(pool, FIRST, mailbox))
    assert [(e["type"], e["webhook_id"]) for e in events(conn)] == [
        ("email.received", wants_received["id"])
    ]


def test_without_subscriptions_nothing_is_stored_but_the_message_is_notified(
    pool, conn, org, mailbox
):
    message_id = accept(pool, FIRST, mailbox)
    run_pipeline(pool, message_id)
    assert conn.execute("SELECT count(*) AS n FROM webhook_events").fetchone()["n"] == 0
    row = conn.execute("SELECT notified, state FROM messages WHERE id = %s", (message_id,))
    assert row.fetchone() == {"notified": True, "state": "done"}


def test_notify_runs_twice_and_changes_nothing(pool, conn, org, mailbox, settings):
    subscribe(conn, org.org_id, settings)
    message_id = accept(pool, FIRST, mailbox)
    run_pipeline(pool, message_id)
    before = events(conn)
    ctx = StageContext(settings)
    with pool.connection() as c, c.transaction():
        msg = messages.get(c, org.org_id, message_id)
        outcome = notify.run(c, msg, ctx)
    assert outcome.jobs == ()
    assert events(conn) == before
    from pipeline.runner import run_stage

    assert run_stage(pool, "notify", message_id, ctx) is None
    assert events(conn) == before


def test_notify_returns_one_delivery_job_per_subscription_and_event(
    pool, conn, org, mailbox, settings
):
    from pipeline.runner import run_stage

    first = subscribe(conn, org.org_id, settings)
    second = subscribe(conn, org.org_id, settings, events=["email.received"])
    message_id = accept(pool, FIRST, mailbox)
    ctx = StageContext(settings)
    stage = "parse"
    while stage != "notify":
        stage = run_stage(pool, stage, message_id, ctx).next_stage
    result = run_stage(pool, "notify", message_id, ctx)
    deliveries = conn.execute(
        """SELECT d.id FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
           WHERE e.type = 'email.received' ORDER BY d.id"""
    )
    ids = [d["id"] for d in deliveries.fetchall()]
    # ticket.created was raised (and its delivery job returned) by the ticket stage already
    assert sorted(j.args[0] for j in result.jobs) == ids
    assert {j.actor for j in result.jobs} == {"deliver_webhook"}
    assert len(ids) == 2 and first["id"] != second["id"]
    assert conn.execute("SELECT count(*) AS n FROM webhook_deliveries").fetchone()["n"] == 3
