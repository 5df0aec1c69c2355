"""Work to enqueue after a transaction commits: an actor name and its arguments.

Stages, events, outbound mail and every channel return ``Job`` values instead of sending
them, so nothing reaches a queue before the rows it names are committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Job:
    """Work to enqueue after the caller's transaction commits (an actor name and its args)."""

    actor: str
    args: tuple[Any, ...] = ()
