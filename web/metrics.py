"""``/metrics`` in Prometheus text format: messages by channel and state, queue depth,
stage latency and errors. Counts come from PostgreSQL and Redis at scrape time."""

from __future__ import annotations

import redis
from flask import Blueprint, Response, current_app

from pipeline import metrics, queues, stages
from web.db import get_conn

bp = Blueprint("metrics", __name__)

QUEUES = tuple(dict.fromkeys(queues.QUEUES.values()))


@bp.get("/metrics")
def scrape() -> Response:
    settings = current_app.config["INTAKE_SETTINGS"]
    client = current_app.extensions["intake_queue"].broker.client
    lines = [*_message_lines(), *_queue_lines(client, settings.redis_namespace)]
    lines += metrics.stage_histograms(client, settings.redis_namespace, stages.ORDER)
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def _message_lines() -> list[str]:
    rows = (
        get_conn()
        .execute("SELECT channel, state, count(*) AS n FROM messages GROUP BY channel, state")
        .fetchall()
    )
    lines = ["# TYPE intake_messages gauge"]
    lines += [
        f'intake_messages{{channel="{r["channel"]}",state="{r["state"]}"}} {r["n"]}' for r in rows
    ]
    return lines


def _queue_lines(client: redis.Redis, namespace: str) -> list[str]:
    lines = ["# TYPE intake_queue_depth gauge"]
    for queue in QUEUES:
        depth = client.llen(f"{namespace}:dramatiq:{queue}")
        delayed = client.llen(f"{namespace}:dramatiq:{queue}.DQ")
        lines.append(f'intake_queue_depth{{queue="{queue}"}} {depth + delayed}')
    return lines
