"""The stages of the pipeline, one module each, run in ``ORDER`` (``pipeline.stage_order``).

Each stage is a module ``pipeline.stages.<name>`` with ``run(conn, msg, ctx) -> Outcome``
(``pipeline.outcomes``; ``ctx`` is a ``pipeline.context.StageContext``). Stages never name
their successor: ``next_stage`` does, and a stage never imports a sibling: what two stages
share lives below them. A message runs through all of them in one job
(``workers.stages``); slow work a stage starts is a returned ``pipeline.jobs.Job``.

A stage does not write its own ``messages`` row: it returns the columns it sets in
``changes`` and the runner writes them, with every stage's evidence and the next stage,
in one UPDATE at the end of the run (a wide row rewritten once per stage was most of the
database's work). Rows elsewhere (attachments, tickets, events) a stage writes itself.
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from pipeline.stage_order import FINAL_STATES, ORDER, next_stage

__all__ = ["FINAL_STATES", "ORDER", "load", "next_stage"]


@cache
def load(name: str) -> ModuleType:
    """The module implementing stage ``name`` (looked up once: it is on every stage's path)."""
    if name not in ORDER:
        raise KeyError(f"unknown stage {name!r}")
    return importlib.import_module(f"pipeline.stages.{name}")
