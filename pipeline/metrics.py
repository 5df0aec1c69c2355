"""Stage latency histograms kept in Redis, so every worker process on every machine adds
to the same series and any web process can serve them (no per-process registries)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

import redis

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _key(namespace: str, stage: str) -> str:
    return f"{namespace}:metrics:stage_seconds:{stage}"


# One call for any number of stage runs: KEYS are the stages' hashes (a stage may come
# more than once), ARGV holds a (bucket, seconds) pair per key, then the counter field
# ("count" or "errors").
OBSERVE = """
local counter = ARGV[#ARGV]
for i, key in ipairs(KEYS) do
    redis.call('HINCRBY', key, ARGV[2 * i - 1], 1)
    redis.call('HINCRBYFLOAT', key, 'sum', ARGV[2 * i])
    redis.call('HINCRBY', key, counter, 1)
end
"""

Observation = tuple[str, float]


def observe_stages(
    client: redis.Redis, namespace: str, observed: Iterable[Observation], ok: bool
) -> None:
    """Count runs of stages, each a (stage, duration) pair, in one round trip."""
    keys: list[str] = []
    args: list[str | float] = []
    for stage, duration in observed:
        keys.append(_key(namespace, stage))
        args += [next((str(b) for b in BUCKETS if duration <= b), "+Inf"), duration]
    if keys:
        _script(client)(keys=keys, args=[*args, "count" if ok else "errors"])


@cache
def _script(client: redis.Redis) -> Any:
    """The OBSERVE script registered on ``client`` (EVALSHA, loaded again if flushed)."""
    return client.register_script(OBSERVE)


def stage_histograms(client: redis.Redis, namespace: str, stages: tuple[str, ...]) -> Iterator[str]:
    """Prometheus text lines for every stage's histogram."""
    yield "# TYPE intake_stage_seconds histogram"
    errors = []
    for stage in stages:
        raw = {k.decode(): float(v) for k, v in client.hgetall(_key(namespace, stage)).items()}
        running = 0.0
        for bound in [*map(str, BUCKETS), "+Inf"]:
            running += raw.get(bound, 0.0)
            yield f'intake_stage_seconds_bucket{{stage="{stage}",le="{bound}"}} {running:g}'
        yield f'intake_stage_seconds_sum{{stage="{stage}"}} {raw.get("sum", 0.0):g}'
        yield f'intake_stage_seconds_count{{stage="{stage}"}} {running:g}'
        errors.append(f'intake_stage_errors_total{{stage="{stage}"}} {raw.get("errors", 0.0):g}')
    yield "# TYPE intake_stage_errors_total counter"
    yield from errors
