"""Stage latency histograms kept in Redis, so every worker process on every machine adds
to the same series and any web process can serve them (no per-process registries)."""

from __future__ import annotations

from collections.abc import Iterator

import redis

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _key(namespace: str, stage: str) -> str:
    return f"{namespace}:metrics:stage_seconds:{stage}"


def observe_stages(
    client: redis.Redis, namespace: str, seconds: dict[str, float], ok: bool
) -> None:
    """Count one run of each stage in ``seconds`` (stage → duration), in one round trip."""
    pipe = client.pipeline(transaction=False)
    for stage, duration in seconds.items():
        key = _key(namespace, stage)
        pipe.hincrby(key, next((str(b) for b in BUCKETS if duration <= b), "+Inf"), 1)
        pipe.hincrbyfloat(key, "sum", duration)
        pipe.hincrby(key, "count" if ok else "errors", 1)
    pipe.execute()


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
