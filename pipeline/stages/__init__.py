"""The stages of the pipeline, their order (as data) and the outcomes they return.

Each stage is a module ``pipeline.stages.<name>`` with ``run(conn, msg, ctx) -> Outcome``.
Stages never name their successor: ``next_stage`` does. A message runs through all of
them in one job (``workers.stages``); slow work a stage starts is a returned ``Job``.

A stage does not write its own ``messages`` row: it returns the columns it sets in
``changes`` and the runner writes them, with every stage's evidence and the next stage,
in one UPDATE at the end of the run (a wide row rewritten once per stage was most of the
database's work). Rows elsewhere (attachments, tickets, events) a stage writes itself.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from config import Settings

if TYPE_CHECKING:
    from pipeline.db import Connection
    from pipeline.records import Message
    from pipeline.store.org_profile import OrgProfile

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
    """Go on to the next stage; ``evidence`` is recorded under the stage's name, ``changes``
    (column → value) on the message, ``notes`` as further top-level ``analysis`` keys."""

    evidence: dict[str, Any] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()
    changes: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stop:
    """End of the journey: the message is kept in ``state`` with ``reason`` and evidence."""

    state: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()
    changes: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)


Outcome = Continue | Stop


@dataclass(frozen=True)
class StageContext:
    """What a stage may need besides the connection and the message.

    ``for_run`` gives each run its own memo, so the organization's settings and rules are
    read once per run (one round trip) however many stages need them, and never cached
    across runs: a rule changed through the API applies to the next mail.
    """

    settings: Settings
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def for_run(self) -> StageContext:
        return StageContext(self.settings)

    def raw(self, conn: Connection, msg: Message) -> bytes:
        """The message's raw bytes, read once per run (the run's claim may have read them)."""
        from pipeline import blobs

        key = ("raw", msg.raw_sha256)
        if key not in self.memo:
            self.memo[key] = blobs.get(conn, msg.raw_sha256)
        return self.memo[key]

    def keep_raw(self, msg: Message, raw: bytes) -> None:
        self.memo[("raw", msg.raw_sha256)] = raw

    def org(self, conn: Connection, msg: Message) -> OrgProfile:
        """The profile of ``msg``'s organization (and sender), loaded once per run."""
        from pipeline.store import org_profile

        key = (msg.org_id, msg.id, msg.from_address)
        if key not in self.memo:
            self.memo[key] = org_profile.load(conn, msg)
        return self.memo[key]


def next_stage(name: str) -> str | None:
    """The stage after ``name``, or ``None`` after the last."""
    index = ORDER.index(name)
    return ORDER[index + 1] if index + 1 < len(ORDER) else None


@cache
def load(name: str) -> ModuleType:
    """The module implementing stage ``name`` (looked up once: it is on every stage's path)."""
    if name not in ORDER:
        raise KeyError(f"unknown stage {name!r}")
    return importlib.import_module(f"pipeline.stages.{name}")
