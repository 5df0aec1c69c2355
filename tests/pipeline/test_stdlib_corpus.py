"""Every message of the standard library's own email test corpus goes through the whole
pipeline without an exception (CPython's ``Lib/test/test_email/data/msg_*.txt``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.helpers import accept, run_pipeline

VENDORED = Path(__file__).resolve().parent.parent / "data" / "stdlib"


def corpus_dir() -> Path:
    """The running Python's corpus, or our copy where the ``test`` package is not installed."""
    spec = importlib.util.find_spec("test")
    if spec and spec.submodule_search_locations:
        installed = Path(next(iter(spec.submodule_search_locations))) / "test_email" / "data"
        if list(installed.glob("msg_*.txt")):
            return installed
    return VENDORED


CORPUS = sorted(corpus_dir().glob("msg_*.txt"))
FINAL_OK = {"done", "filtered", "held", "duplicate"}


def test_the_corpus_is_found():
    assert len(CORPUS) >= 40


def test_every_stdlib_corpus_message_goes_through_the_whole_pipeline(pool, conn, mailbox):
    # One test for the whole corpus: each test's table reset costs more than a message.
    outcomes = {}
    for path in CORPUS:
        message_id = accept(pool, path.read_bytes(), mailbox)
        run_pipeline(pool, message_id)
        outcomes[path.name] = conn.execute(
            "SELECT state, stage, last_error FROM messages WHERE id = %s", (message_id,)
        ).fetchone()
    failures = {
        name: row
        for name, row in outcomes.items()
        if row["last_error"] or row["stage"] or row["state"] not in FINAL_OK
    }
    assert failures == {}
    assert {row["state"] for row in outcomes.values()} >= {"done", "filtered"}
