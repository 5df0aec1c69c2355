"""What a stage returns: go on (``Continue``) or end the journey (``Stop``), with evidence.

Values rather than exceptions, so a stage's decision is easy to test and one driver
(``pipeline.runner``) records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pipeline.jobs import Job


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


def followed_by(outcome: Outcome, step: Continue) -> Outcome:
    """``outcome`` with a further step's jobs and notes added (each step keeps its own
    evidence: the step's is its notes)."""
    return replace(outcome, jobs=outcome.jobs + step.jobs, notes={**outcome.notes, **step.notes})
