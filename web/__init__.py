"""The Flask front: validates API and webhook calls, stores what must not be lost, enqueues."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from config import Settings, load_settings
from pipeline.db import make_pool
from pipeline.errors import InputError
from pipeline.queues import JobQueue, client_broker
from web import body_limits, db, health, metrics, request_checks
from web.envelopes import error_body
from web.ratelimit import KeyRateLimiter

log = logging.getLogger(__name__)
MAX_ROW_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    """``<int:…>`` path ids beyond PostgreSQL's ``bigint`` name no row: 404 at routing, so
    no query ever sees them (a ``max=`` bound would make werkzeug answer 405 instead)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ROW_ID:
            raise NotFound("Not found")
        return number


def create_app(settings: Settings | None = None) -> Flask:
    """A new app. Each view module's ``blueprint()`` builds its routes afresh for it, so
    two apps in one process (tests, workers) share no blueprint."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config["INTAKE_SETTINGS"] = settings
    body_limits.init_app(app)
    if settings.proxy_hops:  # the client address the RPC's rate limits count by
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops)  # type: ignore[method-assign]
    app.json.sort_keys = False
    app.url_map.converters["int"] = RowIdConverter
    app.extensions["intake_pool"] = make_pool(settings.database_url, settings.db_pool_size)
    app.extensions["intake_queue"] = JobQueue(client_broker(settings))
    app.extensions["intake_ratelimit"] = KeyRateLimiter(settings)
    db.init_app(app)
    request_checks.register(app)
    app.register_blueprint(health.blueprint())
    app.register_blueprint(metrics.blueprint())
    from web import api, families, openapi

    api.register(app)
    families.register(app)
    openapi.register(app)
    _register_error_handlers(app)
    return app


def _register_error_handlers(app: Flask) -> None:
    from web import families

    @app.errorhandler(InputError)
    def input_error(exc: InputError):
        return jsonify(error_body(exc)), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        family = families.error_for_path(request.path, exc.code or 500, exc.description or exc.name)
        if family is not None:
            return family
        return jsonify({"success": False, "error": exc.description or exc.name}), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error")
        family = families.error_for_path(request.path, 500, "Internal server error")
        if family is not None:
            return family
        return jsonify({"success": False, "error": "Internal server error"}), 500
