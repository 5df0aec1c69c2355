"""One schemathesis run of an operation, shared by the fuzz tests of every API family."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode


def fuzz(
    operation,
    mode: GenerationMode,
    *,
    headers: dict[str, str],
    checks: Sequence[Callable],
    examples: int,
    path: Mapping[str, str] | None = None,
) -> None:
    """Call ``operation`` with up to ``examples`` generated inputs and run ``checks`` on each
    answer; ``path`` pins the named path parameters to real values (a key, a ticket)."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case) -> None:
        if path and case.path_parameters:
            for name in path.keys() & case.path_parameters.keys():
                case.path_parameters[name] = path[name]
        case.call_and_validate(headers=headers, checks=list(checks))

    try:
        run()
    except Unsatisfiable:
        # An operation whose every input is valid has no negative case to generate.
        assert mode is GenerationMode.NEGATIVE, operation.label
