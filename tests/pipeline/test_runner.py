"""A message runs through every stage in one transaction: a late failure leaves nothing
half done, and the retry does the whole run once."""

from __future__ import annotations

import pytest

from pipeline.context import StageContext
from pipeline.runner import StageResult, run_message
from pipeline.stage_order import ORDER
from pipeline.stages import notify
from tests.helpers import accept, mfs

MAIL = mfs("""
    From: Customer <customer@example.org>
    To: support@example.com
    Subject: The printer
    Message-ID: <late-failure@example.org>

    It is on fire.
""")


def _count(conn, table: str) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]


def test_a_failure_in_the_last_stage_undoes_nothing_committed_and_the_retry_runs_once(
    pool, conn, mailbox, settings, monkeypatch
):
    message_id = accept(pool, MAIL, mailbox)
    real_run, failures = notify.run, []

    def fail_once(conn_, msg, ctx):
        if not failures:
            failures.append(msg.id)
            raise ConnectionError("database went away")
        return real_run(conn_, msg, ctx)

    monkeypatch.setattr(notify, "run", fail_once)
    progress = StageResult(None)
    with pytest.raises(ConnectionError):
        run_message(pool, message_id, StageContext(settings), progress)
    assert progress.next_stage == ORDER[-1]  # the stage that failed
    row = conn.execute("SELECT stage, state, last_error FROM messages").fetchone()
    assert (row["stage"], row["state"]) == (ORDER[0], "received")  # where the run started
    assert "notify: ConnectionError" in row["last_error"]
    assert _count(conn, "tickets") == 0  # the ticket stage's work went with the run

    result = run_message(pool, message_id, StageContext(settings))
    assert result is not None and list(result.seconds) == list(ORDER)
    assert conn.execute("SELECT state FROM messages").fetchone()["state"] == "done"
    assert (_count(conn, "tickets"), _count(conn, "ticket_messages")) == (1, 1)
    assert _count(conn, "tracking_events") == 1
    assert run_message(pool, message_id, StageContext(settings)) is None  # nothing left
