"""After commit, the SMTP listener hands message ids over in one Redis round trip."""

from __future__ import annotations

import pytest

from pipeline.intake import FIRST_STAGE
from pipeline.stages import queue_of
from workers.smtp import enqueue_first_stage
from workers.stages import ACTORS


def queued(broker) -> int:
    return broker.do_qsize(queue_of(FIRST_STAGE))


def test_enqueues_inside_pipelined_reach_redis_together_at_its_end(broker):
    with broker.pipelined():
        for message_id in (1, 2, 3):
            ACTORS[FIRST_STAGE].send(message_id)
        assert queued(broker) == 0  # other commands still run at once
    assert queued(broker) == 3


def test_nothing_is_sent_when_the_block_raises(broker):
    with pytest.raises(RuntimeError), broker.pipelined():
        ACTORS[FIRST_STAGE].send(1)
        raise RuntimeError("the caller failed half-way")
    assert queued(broker) == 0


def test_a_script_redis_has_lost_is_loaded_again(broker):
    script = broker.dispatch_script.script
    sha = script.sha
    script.sha = "0" * 40  # as if Redis had restarted without it
    try:
        enqueue_first_stage([7, 8, 9, 10, 11])
    finally:
        assert script.sha == sha  # the fallback loaded it again
    assert queued(broker) == 2  # a batch of four and one alone
