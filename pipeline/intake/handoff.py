"""Handing the SMTP listener's committed messages over, several sessions' at a time."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

WINDOW = 0.05  # seconds between hand-overs under load


class Handoff:
    """Calls ``on_accepted`` from a thread of its own with the ids of committed messages,
    those of many sessions in one call under load (one Redis round trip, and jobs of
    several messages, for what would be one each).

    The reply does not wait for it (a failed hand-over is left to the sweeper). The first
    message after a quiet spell is handed over at once; then what came in is handed over
    every ``WINDOW``, until a window passes without any.
    """

    def __init__(self, on_accepted: Callable[[list[int]], None], window: float = WINDOW) -> None:
        self.on_accepted = on_accepted
        self.window = window
        self.pending: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="handoff", daemon=True)
        self.thread.start()

    def put(self, ids: list[int]) -> None:
        self.pending.put(ids)

    def close(self) -> None:
        """Hand over what is pending, then stop."""
        self.pending.put(None)
        self.thread.join()

    def _run(self) -> None:
        batches: list[list[int] | None] = [self.pending.get()]  # idle until a message comes
        while None not in batches:
            self._hand_over(batches)
            time.sleep(self.window)
            batches = self._drain() or [self.pending.get()]
        self._hand_over(batches)

    def _drain(self) -> list[list[int] | None]:
        batches = []
        while not self.pending.empty():
            batches.append(self.pending.get_nowait())
        return batches

    def _hand_over(self, batches: list[list[int] | None]) -> None:
        ids = [i for batch in batches if batch is not None for i in batch]
        if not ids:
            return
        try:
            self.on_accepted(ids)
        except Exception:
            log.exception("enqueue failed after commit for message ids %s", ids)
