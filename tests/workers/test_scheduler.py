"""The scheduler's nets: the pick-up hands over within seconds what a crash left behind
(never handed over, or its queue message lost); the long sweep stays as the last net."""

from __future__ import annotations

from tests.helpers import accept, mfs, wait_for

MAIL = mfs("""
    From: bob@example.org
    To: support@example.com
    Subject: Lost job
    Message-ID: <lost@example.org>

    The enqueue after commit never happened.
""")


def _age(conn, message_id: int, column: str, seconds: int) -> None:
    conn.execute(
        f"UPDATE messages SET {column} = now() - make_interval(secs => %s) WHERE id = %s",
        (seconds, message_id),
    )


def _queued(broker) -> int:
    from pipeline.queues import PIPELINE_QUEUE

    return broker.do_qsize(PIPELINE_QUEUE)


def test_a_message_never_handed_over_is_picked_up_after_a_few_seconds(pool, conn, mailbox, broker):
    from pipeline.handover import HANDOVER_GRACE_SECONDS, pick_up
    from workers.stages import queue

    message_id = accept(pool, MAIL, mailbox)  # committed; the listener died before hand-over
    assert pick_up(pool, queue) == 0  # its hand-over may still be on its way
    _age(conn, message_id, "state_changed_at", HANDOVER_GRACE_SECONDS + 1)
    assert pick_up(pool, queue) == 1
    assert _queued(broker) == 1
    assert pick_up(pool, queue) == 0  # handed over now: not again


def test_a_handed_over_message_whose_queue_was_lost_is_handed_over_again(
    pool, conn, mailbox, broker
):
    from pipeline.handover import LOST_AFTER_SECONDS, hand_over, pick_up
    from workers.stages import queue

    message_id = accept(pool, MAIL, mailbox)
    hand_over(pool, queue, [message_id])
    _age(conn, message_id, "state_changed_at", LOST_AFTER_SECONDS + 1)
    _age(conn, message_id, "handed_over_at", LOST_AFTER_SECONDS + 1)
    assert pick_up(pool, queue) == 0  # its job is still on the queue: a backlog, not a loss
    broker.flush_all()  # Redis restarted without its data
    assert pick_up(pool, queue) == 1
    assert _queued(broker) == 1


def test_a_message_a_worker_holds_is_left_to_it(pool, conn, mailbox, broker):
    from pipeline.handover import pick_up
    from workers.stages import queue

    message_id = accept(pool, MAIL, mailbox)
    _age(conn, message_id, "state_changed_at", 3600)
    with pool.connection() as held, held.transaction():
        held.execute("SELECT 1 FROM messages WHERE id = %s FOR UPDATE", (message_id,))
        assert pick_up(pool, queue) == 0
    assert pick_up(pool, queue) == 1


def test_a_picked_up_message_becomes_one_ticket(pool, conn, mailbox, worker):
    from pipeline.handover import pick_up
    from workers.stages import queue

    message_id = accept(pool, MAIL, mailbox)
    _age(conn, message_id, "state_changed_at", 3600)
    assert pick_up(pool, queue) == 1
    wait_for(
        lambda: conn.execute(
            "SELECT 1 FROM messages WHERE id = %s AND state = 'done'", (message_id,)
        ).fetchone()
    )
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1


def test_the_sweep_hands_over_a_message_stalled_long_ago(pool, conn, mailbox, settings, broker):
    from workers.scheduler import sweep
    from workers.stages import queue

    message_id = accept(pool, MAIL, mailbox)
    assert sweep(pool, settings, queue) == 0
    _age(conn, message_id, "state_changed_at", settings.sweep_after_seconds + 1)
    assert sweep(pool, settings, queue) == 1
    assert _queued(broker) == 1
    conn.execute("UPDATE messages SET state = 'done', stage = NULL")
    _age(conn, message_id, "state_changed_at", 3600)
    assert sweep(pool, settings, queue) == 0
