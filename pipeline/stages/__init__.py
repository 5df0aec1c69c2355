"""The stages of the pipeline, their order (as data) and the outcomes they return.

Each stage is a module ``pipeline.stages.<name>`` with ``run(conn, msg, ctx) -> Outcome``
and a ``QUEUE`` name. Stages never name their successor: ``next_stage`` does.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any

from config import Settings

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

FINAL_STATES = frozenset({"done", "duplicate", "filtered", "held", "discarded", "failed"})


@dataclass(frozen=True)
class Job:
    """Work to enqueue after the stage's transaction commits (an actor name and its args)."""

    actor: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Continue:
    """Go on to the next stage; ``evidence`` is recorded under the stage's name."""

    evidence: dict[str, Any] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()


@dataclass(frozen=True)
class Stop:
    """End of the journey: the message is kept in ``state`` with ``reason`` and evidence."""

    state: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()


Outcome = Continue | Stop


@dataclass(frozen=True)
class StageContext:
    """What a stage may need besides the connection and the message."""

    settings: Settings


def next_stage(name: str) -> str | None:
    """The stage after ``name``, or ``None`` after the last."""
    index = ORDER.index(name)
    return ORDER[index + 1] if index + 1 < len(ORDER) else None


def queue_of(name: str) -> str:
    """The Dramatiq queue stage ``name`` runs on (its module's ``QUEUE``)."""
    return getattr(load(name), "QUEUE", "pipeline")


def actor_name(name: str) -> str:
    """The Dramatiq actor name of stage ``name``."""
    return f"stage_{name}"


@cache
def load(name: str) -> ModuleType:
    """The module implementing stage ``name`` (looked up once: it is on every stage's path)."""
    if name not in ORDER:
        raise KeyError(f"unknown stage {name!r}")
    return importlib.import_module(f"pipeline.stages.{name}")
