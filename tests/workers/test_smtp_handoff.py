"""After commit, the SMTP listener hands message ids over in batches, one Redis round trip
for each batch."""

from __future__ import annotations

import threading

import pytest

from pipeline.intake.handoff import Handoff
from pipeline.jobs import Job
from pipeline.queues import PIPELINE_QUEUE, PROCESS_ACTOR
from tests.helpers import accept, mfs
from workers.smtp import hand_over_accepted
from workers.stages import queue


def queued(broker) -> int:
    return broker.do_qsize(PIPELINE_QUEUE)


def test_enqueues_inside_pipelined_reach_redis_together_at_its_end(broker):
    with broker.pipelined():
        for message_id in (1, 2, 3):
            queue.send(Job(PROCESS_ACTOR, ([message_id],)))
        assert queued(broker) == 0  # other commands still run at once
    assert queued(broker) == 3


def test_nothing_is_sent_when_the_block_raises(broker):
    with pytest.raises(RuntimeError), broker.pipelined():
        queue.send(Job(PROCESS_ACTOR, ([1],)))
        raise RuntimeError("the caller failed half-way")
    assert queued(broker) == 0


def test_a_script_redis_has_lost_is_loaded_again(broker, pool, mailbox):
    ids = [accept(pool, mfs(f"Subject: {n}\n\nHello"), mailbox) for n in range(5)]
    script = broker.dispatch_script.script
    sha = script.sha
    script.sha = "0" * 40  # as if Redis had restarted without it
    try:
        hand_over_accepted(ids)
    finally:
        assert script.sha == sha  # the fallback loaded it again
    assert queued(broker) == 2  # a batch of four and one alone


def test_handoff_gathers_the_ids_of_several_messages_into_one_call():
    calls: list[list[int]] = []
    release = threading.Event()

    def on_accepted(ids: list[int]) -> None:
        calls.append(ids)
        release.wait(5)

    handoff = Handoff(on_accepted)
    handoff.put([1])
    for message_id in range(2, 6):
        handoff.put([message_id])
    release.set()  # the first call waited: the ids put meanwhile go in one more call
    handoff.close()
    assert sorted(i for ids in calls for i in ids) == [1, 2, 3, 4, 5]
    assert len(calls) <= 2


def test_a_failed_handoff_is_logged_and_the_next_still_happens(caplog):
    calls: list[list[int]] = []
    failed = threading.Event()

    def on_accepted(ids: list[int]) -> None:
        calls.append(ids)
        if len(calls) == 1:
            failed.set()
            raise ConnectionError("Redis is down")

    handoff = Handoff(on_accepted)
    handoff.put([1])
    assert failed.wait(5)
    handoff.put([2])
    handoff.close()
    assert calls == [[1], [2]]
    assert "enqueue failed after commit for message ids [1]" in caplog.text
