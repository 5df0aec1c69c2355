"""Messages that arrive together go through the pipeline a few to a job; one that fails
in a batch is retried alone and the others are not held up."""

from __future__ import annotations

import dramatiq
import pytest

from pipeline.handover import BATCH_SIZE, hand_over
from pipeline.queues import PIPELINE_QUEUE, PROCESS_ACTOR
from pipeline.stages import parse
from tests.helpers import accept, mfs, wait_for
from workers import stages as worker_stages
from workers.stages import queue


def _mail(n: int) -> bytes:
    return mfs(f"""
        From: Customer {n} <customer{n}@example.org>
        To: support@example.com
        Subject: Request {n}
        Message-ID: <request-{n}@example.org>

        Please help with request {n}.
    """)


def _jobs(broker) -> list[tuple[str, tuple]]:
    found = []
    for raw in broker.client.hvals(f"{broker.namespace}:{PIPELINE_QUEUE}.msgs"):
        message = dramatiq.Message.decode(raw)
        found.append((message.actor_name, tuple(message.args)))
    return found


def test_handed_over_ids_go_a_few_to_a_job_and_the_rows_record_the_hand_over(
    broker, pool, conn, mailbox
):
    ids = [accept(pool, _mail(n), mailbox) for n in range(17)]
    hand_over(pool, queue, ids)
    assert BATCH_SIZE == 8
    expected = [
        (PROCESS_ACTOR, (ids[0:8],)),
        (PROCESS_ACTOR, (ids[8:16],)),
        (PROCESS_ACTOR, (ids[16:],)),
    ]
    assert sorted(_jobs(broker), key=str) == sorted(expected, key=str)
    marked = conn.execute("SELECT count(*) AS n FROM messages WHERE handed_over_at IS NOT NULL")
    assert marked.fetchone()["n"] == 17


def test_every_message_of_a_batch_becomes_a_ticket(worker, pool, conn, mailbox):
    ids = [accept(pool, _mail(n), mailbox) for n in range(6)]
    hand_over(pool, queue, ids)
    wait_for(lambda: conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 6)
    states = conn.execute("SELECT DISTINCT state FROM messages").fetchall()
    assert states == [{"state": "done"}]


def test_a_message_failing_in_a_batch_is_retried_alone_and_the_others_go_on(
    worker, pool, conn, mailbox, monkeypatch
):
    ids = [accept(pool, _mail(n), mailbox) for n in range(4)]
    flaky, failures = ids[1], []
    real_run = parse.run

    def run_once_failing(conn_, msg, ctx):
        if msg.id == flaky and not failures:
            failures.append(msg.id)
            raise ConnectionError("database went away")
        return real_run(conn_, msg, ctx)

    monkeypatch.setattr(parse, "run", run_once_failing)
    monkeypatch.setattr(worker_stages, "RETRY_ALONE_DELAY_MS", 100)
    hand_over(pool, queue, ids)
    wait_for(lambda: conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 4)
    assert failures == [flaky]
    row = conn.execute("SELECT state, last_error FROM messages WHERE id = %s", (flaky,))
    assert row.fetchone() == {"state": "done", "last_error": None}


def test_a_permanent_failure_in_a_batch_is_recorded_and_not_retried(worker, pool, conn, mailbox):
    ids = [accept(pool, _mail(n), mailbox) for n in range(2)]
    empty = accept(pool, b"   ", mailbox)
    hand_over(pool, queue, [ids[0], empty, ids[1]])
    wait_for(lambda: conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 2)
    failed = wait_for(
        lambda: conn.execute(
            "SELECT last_error FROM messages WHERE id = %s AND state = 'failed'", (empty,)
        ).fetchone()
    )
    assert "empty message" in failed["last_error"]


@pytest.fixture(autouse=True)
def _empty_queue(broker):
    broker.flush_all()
    yield
    broker.flush_all()
