"""After commit, the SMTP listener hands message ids over in batches, those of many
sessions in one hand-over."""

from __future__ import annotations

import threading

from pipeline.intake.handoff import Handoff


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
