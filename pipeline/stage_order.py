"""The order of the stages, as data (Mailman's ``_default_handlers``), and what follows.

Below the stages themselves, so the door (``pipeline.intake``) and replay can name the
first stage without importing the stages package.
"""

from __future__ import annotations

ORDER: tuple[str, ...] = (
    "parse",
    "dedupe",
    "filter",
    "match_thread",
    "categorize",
    "voicemail",
    "ticket",
    "notify",
)
FIRST_STAGE = ORDER[0]

FINAL_STATES = frozenset({"done", "duplicate", "filtered", "held", "discarded", "failed"})


def next_stage(name: str) -> str | None:
    """The stage after ``name``, or ``None`` after the last."""
    index = ORDER.index(name)
    return ORDER[index + 1] if index + 1 < len(ORDER) else None
