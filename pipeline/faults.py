"""Fault injection for the crash test: ``INTAKE_CRASH_AT=<point>[:<n>]`` makes the process
kill itself with SIGKILL the ``n``-th time (default the first) it reaches ``point``.

Points: ``handover`` (stored and committed, not yet handed over), ``stage`` (inside a
run's transaction, its stages done, nothing committed), ``after_commit`` (a run
committed, its jobs not yet sent). Unset in production: one environment lookup.
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "INTAKE_CRASH_AT"
_reached: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    with _lock:
        _reached[name] = _reached.get(name, 0) + 1
        if _reached[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
