"""The sweeper: a message stranded between commit and enqueue is processed anyway."""

from __future__ import annotations

from tests.helpers import accept, mfs, wait_for

MAIL = mfs("""
    From: bob@example.org
    To: support@example.com
    Subject: Lost job
    Message-ID: <lost@example.org>

    The enqueue after commit never happened.
""")


def test_sweeper_reenqueues_a_message_whose_job_was_lost(pool, conn, mailbox, settings, worker):
    from workers.scheduler import sweep
    from workers.stages import enqueue

    message_id = accept(pool, MAIL, mailbox)  # committed, but never enqueued
    conn.execute(
        "UPDATE messages SET state_changed_at = now() - interval '1 hour' WHERE id = %s",
        (message_id,),
    )
    assert sweep(pool, settings, enqueue) == 1
    wait_for(
        lambda: conn.execute(
            "SELECT 1 FROM messages WHERE id = %s AND state = 'done'", (message_id,)
        ).fetchone()
    )
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1


def test_sweeper_leaves_recent_and_finished_messages_alone(pool, conn, mailbox, settings):
    sent = []
    accept(pool, MAIL, mailbox)
    assert sweep_now(pool, settings, sent) == 0
    conn.execute(
        "UPDATE messages SET state = 'done', stage = NULL, "
        "state_changed_at = now() - interval '1 hour'"
    )
    assert sweep_now(pool, settings, sent) == 0
    assert sent == []


def sweep_now(pool, settings, sent):
    from workers.scheduler import sweep

    return sweep(pool, settings, lambda stage, message_id: sent.append((stage, message_id)))
