"""Messages that arrive together go through the pipeline a few to a job; one that fails
in a batch is retried alone and the others are not held up."""

from __future__ import annotations

import dramatiq
import pytest

from pipeline.intake import FIRST_STAGE
from pipeline.stages import parse, queue_of
from tests.helpers import accept, mfs, wait_for
from workers import stages as worker_stages
from workers.stages import ACTORS, BATCH_ACTORS, BATCH_SIZE, enqueue_many


def _mail(n: int) -> bytes:
    return mfs(f"""
        From: Customer {n} <customer{n}@example.org>
        To: support@example.com
        Subject: Request {n}
        Message-ID: <request-{n}@example.org>

        Please help with request {n}.
    """)


def _jobs(broker) -> list[tuple[str, tuple]]:
    queue = f"{broker.namespace}:{queue_of(FIRST_STAGE)}.msgs"
    found = []
    for raw in broker.client.hvals(queue):
        message = dramatiq.Message.decode(raw)
        found.append((message.actor_name, tuple(message.args)))
    return found


def test_ids_are_enqueued_a_batch_to_a_job_and_a_lone_one_to_the_stage(broker):
    enqueue_many(FIRST_STAGE, [1, 2, 3, 4, 5, 6, 7, 8, 9])
    batch, alone = BATCH_ACTORS[FIRST_STAGE].actor_name, ACTORS[FIRST_STAGE].actor_name
    assert BATCH_SIZE == 4
    expected = [(batch, ([1, 2, 3, 4],)), (batch, ([5, 6, 7, 8],)), (alone, (9,))]
    assert sorted(_jobs(broker), key=str) == sorted(expected, key=str)


def test_every_message_of_a_batch_becomes_a_ticket(worker, pool, conn, mailbox):
    ids = [accept(pool, _mail(n), mailbox) for n in range(6)]
    enqueue_many(FIRST_STAGE, ids)
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
    enqueue_many(FIRST_STAGE, ids)
    wait_for(lambda: conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 4)
    assert failures == [flaky]
    row = conn.execute("SELECT state, last_error FROM messages WHERE id = %s", (flaky,))
    assert row.fetchone() == {"state": "done", "last_error": None}


def test_a_permanent_failure_in_a_batch_is_recorded_and_not_retried(worker, pool, conn, mailbox):
    ids = [accept(pool, _mail(n), mailbox) for n in range(2)]
    empty = accept(pool, b"   ", mailbox)
    enqueue_many(FIRST_STAGE, [ids[0], empty, ids[1]])
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
