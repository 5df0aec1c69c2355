"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from pipeline import db
from web.db import get_conn


def blueprint() -> Blueprint:
    bp = Blueprint("health", __name__)
    bp.get("/healthz")(healthz)
    bp.get("/readyz")(readyz)
    return bp


def healthz():
    return jsonify({"status": "ok"})


def readyz():
    checks = {"postgres": _check_postgres(), "redis": _check_redis()}
    ready = all(checks.values())
    return jsonify({"status": "ready" if ready else "unavailable", "checks": checks}), (
        200 if ready else 503
    )


def _check_postgres() -> bool:
    try:
        db.ping(get_conn())
        return True
    except Exception:
        return False


def _check_redis() -> bool:
    try:
        return current_app.extensions["intake_queue"].ping()
    except Exception:
        return False
