"""Replay: failed and stuck messages go through again; nothing is ever doubled."""

from __future__ import annotations

from pipeline import replay
from pipeline.stage_order import ORDER
from tests.helpers import accept, run_pipeline
from tests.pipeline.mailflow import count, deliver, mail, message, snapshot, ticket_of


def _prepare(pool, ids, from_start=False) -> list[replay.Replay]:
    with pool.connection() as conn, conn.transaction():
        return replay.prepare(conn, ids, from_start=from_start)


def _fail_at(conn, message_id, stage) -> None:
    conn.execute(
        """UPDATE messages SET state = 'failed', stage = %s, last_error = 'boom'
           WHERE id = %s""",
        (stage, message_id),
    )


def test_a_failed_message_restarts_at_the_stage_that_failed(pool, conn, mailbox):
    message_id = accept(pool, mail(), mailbox)
    _fail_at(conn, message_id, "ticket")
    assert _prepare(pool, [message_id]) == [replay.Replay(message_id, "ticket")]
    row = message(conn, message_id)
    assert (row["state"], row["stage"], row["last_error"]) == ("processing", "ticket", None)


def test_a_message_that_failed_in_parse_restarts_as_received(pool, conn, mailbox):
    message_id = accept(pool, mail(), mailbox)
    _fail_at(conn, message_id, ORDER[0])
    _prepare(pool, [message_id])
    assert message(conn, message_id)["state"] == "received"
    run_pipeline(pool, message_id)
    assert message(conn, message_id)["state"] == "done"
    assert ticket_of(conn, message_id) is not None


def test_a_stuck_message_is_enqueued_again_at_its_stage(pool, conn, mailbox):
    message_id = accept(pool, mail(), mailbox)
    assert _prepare(pool, [message_id]) == [replay.Replay(message_id, ORDER[0])]
    assert message(conn, message_id)["state"] == "received"


def test_finished_messages_are_left_alone_without_from_start(pool, conn, mailbox):
    message_id = deliver(pool, mail(), mailbox)
    before = snapshot(conn)
    assert _prepare(pool, [message_id, 99999]) == [
        replay.Replay(message_id, skipped="already done (use --from-start to re-run it)"),
        replay.Replay(99999, skipped="not found"),
    ]
    assert message(conn, message_id)["state"] == "done"
    assert snapshot(conn) == before


def test_replay_from_start_never_opens_a_second_ticket(pool, conn, mailbox):
    message_id = deliver(pool, mail(), mailbox)
    reply = deliver(
        pool, mail("Re: x", message_id="<r@x>", headers="In-Reply-To: <first@example.org>"), mailbox
    )
    before = snapshot(conn)
    plan = _prepare(pool, [message_id, reply], from_start=True)
    assert [p.stage for p in plan] == [ORDER[0], ORDER[0]]
    for item in plan:
        run_pipeline(pool, item.message_id)
    assert snapshot(conn) == before
    assert count(conn, "tickets") == 1
    assert ticket_of(conn, reply)["exchange_count"] == 2
    assert message(conn, reply)["state"] == "done"


def test_replay_from_start_applies_a_changed_policy_to_held_mail(pool, conn, mailbox):
    conn.execute("UPDATE organizations SET unmatched_policy = 'hold'")
    held = deliver(pool, mail(), mailbox)
    conn.execute("UPDATE organizations SET unmatched_policy = 'create_ticket'")
    _prepare(pool, [held], from_start=True)
    run_pipeline(pool, held)
    assert ticket_of(conn, held) is not None
    assert message(conn, held)["state"] == "done"
