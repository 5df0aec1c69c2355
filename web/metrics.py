"""``/metrics`` in Prometheus text format: messages by channel and state, queue depth,
stage latency and errors. Counts come from PostgreSQL and Redis at scrape time.

The figures cover every organization, so they are the operator's, not a tenant's: the
endpoint answers only to ``Authorization: Bearer <INTAKE_METRICS_TOKEN>`` and is off (404)
while no token is configured. API keys, whatever their scope, never open it.
"""

from __future__ import annotations

import hmac

import redis
from flask import Blueprint, Response, current_app, jsonify, request

from pipeline import metrics, queues
from pipeline.stage_order import ORDER
from pipeline.store import message_queries
from web.db import get_conn


def blueprint() -> Blueprint:
    bp = Blueprint("metrics", __name__)
    bp.get("/metrics")(scrape)
    return bp


QUEUES = tuple(dict.fromkeys(queues.QUEUES.values()))


def scrape() -> Response | tuple[Response, int, dict[str, str]]:
    settings = current_app.config["INTAKE_SETTINGS"]
    refusal = _refusal(settings.metrics_token)
    if refusal is not None:
        return refusal
    client = current_app.extensions["intake_queue"].broker.client
    lines = [*_message_lines(), *_queue_lines(client, settings.redis_namespace)]
    lines += metrics.stage_histograms(client, settings.redis_namespace, ORDER)
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def _refusal(token: str) -> tuple[Response, int, dict[str, str]] | None:
    """``None`` when the request bears the operator's metrics token, else the answer."""
    if not token:
        body = {"success": False, "error": "Not found (set INTAKE_METRICS_TOKEN to enable)"}
        return jsonify(body), 404, {}
    auth = request.authorization
    given = auth.token if auth is not None and auth.type == "bearer" else None
    if given and hmac.compare_digest(given.encode(), token.encode()):
        return None
    body = {"success": False, "error": "Missing or wrong metrics token"}
    return jsonify(body), 401, {"WWW-Authenticate": 'Bearer realm="metrics"'}


def _message_lines() -> list[str]:
    rows = message_queries.count_by_channel_and_state(get_conn())
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
