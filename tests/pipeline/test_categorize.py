"""categorize: ordered rules assign categories and labels and raise email.categorized."""

from __future__ import annotations

from config import load_settings
from pipeline.context import StageContext
from pipeline.runner import run_stage
from pipeline.stage_order import ORDER, next_stage
from pipeline.stages import categorize
from pipeline.store import messages
from tests.helpers import accept
from tests.pipeline.mailflow import count, deliver, mail, message, rerun, snapshot, ticket_of


def _category(conn, org_id, slug, *, active=True) -> int:
    return conn.execute(
        """INSERT INTO categories (org_id, name, slug, is_active) VALUES (%s, %s, %s, %s)
           RETURNING id""",
        (org_id, slug.title(), slug, active),
    ).fetchone()["id"]


def _rule(conn, org_id, category_id, position, field, operator, value, **extra) -> int:
    return conn.execute(
        """INSERT INTO category_rules (org_id, category_id, position, field, operator, value,
                                       header_name, labels, stop_processing, is_active)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (
            org_id,
            category_id,
            position,
            field,
            operator,
            value,
            extra.get("header_name"),
            extra.get("labels", []),
            extra.get("stop", False),
            extra.get("active", True),
        ),
    ).fetchone()["id"]


def _evidence(conn, message_id) -> dict:
    return message(conn, message_id)["analysis"]["categorize"]


def _subscribe(conn, org_id, event="email.categorized") -> None:
    conn.execute(
        "INSERT INTO webhooks (org_id, url, events) VALUES (%s, 'http://127.0.0.1:9/h', %s)",
        (org_id, [event]),
    )


def _deliveries(conn, event_type) -> int:
    return conn.execute(
        """SELECT count(*) AS n FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
           WHERE e.type = %s""",
        (event_type,),
    ).fetchone()["n"]


def test_rules_assign_categories_and_labels_in_rule_order(pool, conn, mailbox):
    org = mailbox.org_id
    billing, vip = _category(conn, org, "billing"), _category(conn, org, "vip")
    first = _rule(conn, org, vip, 2, "from", "domain", "example.org", labels=["vip", "priority"])
    second = _rule(conn, org, billing, 1, "subject", "contains", "invoice", labels=["billing"])
    message_id = deliver(pool, mail("Invoice overdue"), mailbox)
    evidence = _evidence(conn, message_id)
    assert [(c["slug"], c["rule_id"]) for c in evidence["categories"]] == [
        ("billing", second),
        ("vip", first),
    ]
    assert evidence["labels"] == ["billing", "vip", "priority"]
    rows = conn.execute("SELECT category_id, rule_id FROM message_categories ORDER BY 1").fetchall()
    assert rows == [
        {"category_id": billing, "rule_id": second},
        {"category_id": vip, "rule_id": first},
    ]


def test_stop_processing_stops_at_the_first_match_of_that_rule(pool, conn, mailbox):
    org = mailbox.org_id
    spam, billing = _category(conn, org, "spam"), _category(conn, org, "billing")
    stopper = _rule(conn, org, spam, 1, "subject", "regex", r"^invoice\b", stop=True)
    _rule(conn, org, billing, 2, "subject", "contains", "invoice", labels=["billing"])
    message_id = deliver(pool, mail("Invoice overdue"), mailbox)
    evidence = _evidence(conn, message_id)
    assert evidence["rules_matched"] == [stopper]
    assert [c["slug"] for c in evidence["categories"]] == ["spam"]
    assert evidence["labels"] == []


def test_inactive_rules_and_rules_of_inactive_categories_are_ignored(pool, conn, mailbox):
    org = mailbox.org_id
    off = _category(conn, org, "off", active=False)
    on = _category(conn, org, "on")
    _rule(conn, org, off, 1, "subject", "contains", "invoice")
    _rule(conn, org, on, 2, "subject", "contains", "invoice", active=False)
    message_id = deliver(pool, mail("Invoice overdue"), mailbox)
    assert _evidence(conn, message_id)["categories"] == []
    assert count(conn, "message_categories") == 0


def test_a_named_header_rule_reads_that_header(pool, conn, mailbox):
    org = mailbox.org_id
    urgent = _category(conn, org, "urgent")
    _rule(conn, org, urgent, 1, "header", "equals", "high", header_name="Importance")
    message_id = deliver(pool, mail("Hi", headers="Importance: High"), mailbox)
    assert [c["slug"] for c in _evidence(conn, message_id)["categories"]] == ["urgent"]


def test_a_runaway_regex_is_recorded_and_the_mail_goes_on(pool, conn, mailbox):
    org = mailbox.org_id
    evil = _rule(conn, org, _category(conn, org, "evil"), 1, "body", "regex", "(a|aa)+$")
    message_id = deliver(pool, mail("Hi", body="a" * 5000 + "!"), mailbox)
    assert _evidence(conn, message_id)["errors"][0]["rule_id"] == evil
    assert message(conn, message_id)["state"] == "done"
    assert ticket_of(conn, message_id) is not None


def test_category_labels_are_applied_to_the_ticket_without_repeats(pool, conn, mailbox):
    org = mailbox.org_id
    billing = _category(conn, org, "billing")
    _rule(conn, org, billing, 1, "subject", "contains", "invoice", labels=["billing", "money"])
    first = deliver(pool, mail("Invoice overdue"), mailbox)
    assert ticket_of(conn, first)["labels"] == ["billing", "money"]
    raw = mail("Re: Invoice", message_id="<r@x>", headers="In-Reply-To: <first@example.org>")
    deliver(pool, raw, mailbox)
    assert ticket_of(conn, first)["labels"] == ["billing", "money"]


def test_a_reply_adds_its_new_labels_after_the_tickets_own(pool, conn, mailbox):
    org = mailbox.org_id
    billing, refund = _category(conn, org, "billing"), _category(conn, org, "refund")
    _rule(conn, org, billing, 1, "subject", "contains", "invoice", labels=["billing", "money"])
    _rule(conn, org, refund, 2, "body", "contains", "refund", labels=["money", "refund"])
    first = deliver(pool, mail("Invoice overdue"), mailbox)
    raw = mail(
        "Re: Invoice",
        message_id="<r@x>",
        headers="In-Reply-To: <first@example.org>",
        body="I want a refund.",
    )
    deliver(pool, raw, mailbox)
    assert ticket_of(conn, first)["labels"] == ["billing", "money", "refund"]


def test_email_categorized_is_raised_once_with_its_delivery_jobs(pool, conn, mailbox):
    org = mailbox.org_id
    _subscribe(conn, org)
    _rule(conn, org, _category(conn, org, "billing"), 1, "subject", "contains", "invoice")
    message_id = deliver(pool, mail("Invoice"), mailbox)
    event = conn.execute("SELECT * FROM webhook_events WHERE type = 'email.categorized'").fetchone()
    assert event["dedupe_key"] == f"email.categorized:{message_id}"
    assert event["payload"]["categories"][0]["slug"] == "billing"
    assert _deliveries(conn, "email.categorized") == 1
    with pool.connection() as tx, tx.transaction():
        msg = messages.get(tx, org, message_id)
        outcome = categorize.run(tx, msg, StageContext(load_settings()))
    assert outcome.jobs == ()  # already raised: a second run sends nothing
    assert _deliveries(conn, "email.categorized") == 1


def test_categorize_returns_the_delivery_jobs_of_its_event(pool, conn, mailbox):
    org = mailbox.org_id
    _subscribe(conn, org)
    _rule(conn, org, _category(conn, org, "billing"), 1, "subject", "contains", "invoice")
    message_id = accept(pool, mail("Invoice"), mailbox)
    ctx = StageContext(load_settings())
    for stage in ORDER[: ORDER.index("categorize")]:
        run_stage(pool, stage, message_id, ctx)
    result = run_stage(pool, "categorize", message_id, ctx)
    assert [job.actor for job in result.jobs] == ["deliver_webhook"]
    assert result.next_stage == next_stage("categorize")


def test_no_event_when_no_category_was_assigned(pool, conn, mailbox):
    _subscribe(conn, mailbox.org_id)
    deliver(pool, mail("Hello"), mailbox)
    assert _deliveries(conn, "email.categorized") == 0


def test_categorize_runs_twice_changes_nothing(pool, conn, mailbox, settings):
    org = mailbox.org_id
    _subscribe(conn, org)
    _rule(
        conn,
        org,
        _category(conn, org, "billing"),
        1,
        "subject",
        "contains",
        "invoice",
        labels=["b"],
    )
    message_id = deliver(pool, mail("Invoice"), mailbox)
    before_rows, before = snapshot(conn), _evidence(conn, message_id)
    assert rerun(pool, conn, settings, message_id, "categorize") == before
    assert snapshot(conn) == before_rows
