"""dedupe: one message per Message-ID (or raw content) per organization, enforced by the
database even when two workers race."""

from __future__ import annotations

import threading
import time

from config import load_settings
from pipeline.context import StageContext
from pipeline.runner import run_stage
from pipeline.stages import dedupe
from pipeline.store import mailboxes, messages
from tests.helpers import accept, make_org, mfs, run_pipeline

MAIL = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: Printer on fire
    Message-ID: <fire-1@example.org>

    Please send help.
""")

NO_ID = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: No Message-ID here

    Some old mailer.
""")


def _ctx() -> StageContext:
    return StageContext(load_settings())


def _row(conn, message_id: int) -> dict:
    return conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()


def _tickets(conn) -> int:
    return conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"]


def test_the_same_message_id_twice_is_kept_marked_duplicate_and_goes_no_further(
    pool, conn, mailbox
):
    first, second = accept(pool, MAIL, mailbox), accept(pool, MAIL, mailbox)
    run_pipeline(pool, first)
    run_pipeline(pool, second)
    row = _row(conn, second)
    assert row["state"] == "duplicate"
    assert row["duplicate_of"] == first
    assert row["stage"] is None
    assert row["analysis"]["dedupe"]["reason"] == f"same message id as message {first}"
    assert row["analysis"]["dedupe"]["key"] == "mid:<fire-1@example.org>"
    assert row["body_text"].strip() == "Please send help."  # kept and parsed
    assert _tickets(conn) == 1


def test_without_a_message_id_the_raw_content_decides(pool, conn, mailbox):
    first, second = accept(pool, NO_ID, mailbox), accept(pool, NO_ID, mailbox)
    run_pipeline(pool, first)
    run_pipeline(pool, second)
    assert _row(conn, second)["duplicate_of"] == first
    assert _row(conn, second)["analysis"]["dedupe"]["basis"] == "raw_sha256"


def test_trace_headers_added_in_transit_do_not_hide_a_duplicate(pool, conn, mailbox):
    first = accept(pool, b"Received: from a by b; Mon, 1 Jan 2024\r\n" + NO_ID, mailbox)
    second = accept(
        pool, b"Return-Path: <x@y>\r\nDelivered-To: support@example.com\r\n" + NO_ID, mailbox
    )
    run_pipeline(pool, first)
    run_pipeline(pool, second)
    assert _row(conn, second)["state"] == "duplicate"


def test_different_content_without_message_id_is_not_a_duplicate(pool, conn, mailbox):
    first = accept(pool, NO_ID, mailbox)
    other = NO_ID.replace(b"Some old mailer.", b"Another mail.").replace(b"here", b"either")
    second = accept(pool, other, mailbox)  # another subject: not appended as a follow-up
    run_pipeline(pool, first)
    run_pipeline(pool, second)
    assert _row(conn, second)["state"] == "done"
    assert _tickets(conn) == 2


def test_the_same_message_id_in_another_organization_is_not_a_duplicate(pool, conn, mailbox):
    other = make_org(conn, "Other")
    other_box = mailboxes.create(conn, other.org_id, "help@other.example", "Help")
    first, second = accept(pool, MAIL, mailbox), accept(pool, MAIL, other_box)
    run_pipeline(pool, first)
    run_pipeline(pool, second)
    assert _row(conn, second)["state"] == "done"


def test_the_same_mail_by_smtp_and_by_imap_yields_one_ticket(pool, conn, mailbox):
    by_smtp = accept(pool, b"Received: from mx by intake; now\r\n" + MAIL, mailbox, "smtp")
    by_imap = accept(pool, b"Return-Path: <alice@example.org>\r\n" + MAIL, mailbox, "imap")
    run_pipeline(pool, by_smtp)
    run_pipeline(pool, by_imap)
    assert _tickets(conn) == 1
    assert _row(conn, by_imap)["duplicate_of"] == by_smtp
    assert _row(conn, by_smtp)["ticket_id"] is not None


def _parsed_pair(pool, mailbox) -> tuple[int, int]:
    first, second = accept(pool, MAIL, mailbox), accept(pool, MAIL, mailbox)
    for message_id in (first, second):
        run_stage(pool, "parse", message_id, _ctx())
    return first, second


def test_two_workers_deduping_copies_at_once_yield_one_original(pool, conn, mailbox):
    first, second = _parsed_pair(pool, mailbox)
    first_holds_key = threading.Event()
    waited = {}

    def worker_one():
        with pool.connection() as c1, c1.transaction():
            msg = messages.claim(c1, first, "dedupe")
            outcome = dedupe.run(c1, msg, _ctx())
            messages.record_stage(c1, first, "dedupe", outcome.evidence, "filter", "processing")
            first_holds_key.set()
            time.sleep(0.5)  # worker two is now blocked on the unique index

    def worker_two():
        first_holds_key.wait(5)
        started = time.monotonic()
        run_stage(pool, "dedupe", second, _ctx())  # its own connection and transaction
        waited["seconds"] = time.monotonic() - started

    threads = [threading.Thread(target=worker_one), threading.Thread(target=worker_two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert waited["seconds"] >= 0.3  # it waited for the first transaction, then lost
    assert _row(conn, first)["state"] == "processing"
    assert _row(conn, second)["state"] == "duplicate"
    assert _row(conn, second)["duplicate_of"] == first


def test_dedupe_runs_twice_changes_nothing(pool, conn, mailbox):
    first, second = _parsed_pair(pool, mailbox)
    run_stage(pool, "dedupe", first, _ctx())
    run_stage(pool, "dedupe", second, _ctx())
    before = [_row(conn, first), _row(conn, second)]
    assert run_stage(pool, "dedupe", first, _ctx()) is None
    assert run_stage(pool, "dedupe", second, _ctx()) is None
    # and the stage logic itself, replayed on the original, still finds it original
    with pool.connection() as c, c.transaction():
        msg = messages.get(c, before[0]["org_id"], first)
        assert dedupe.run(c, msg, _ctx()).evidence["key"] == "mid:<fire-1@example.org>"
    assert [_row(conn, first), _row(conn, second)] == before
