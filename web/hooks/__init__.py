"""Provider webhooks: inbound mail (``/hooks/inbound/…``, ``001_…``) and delivery events.

Every view here stores through the one door or ``pipeline.delivery_events`` in the
request's transaction, commits, and only then enqueues work and answers 2xx. Errors use
the ``{"success": false, "error": …}`` envelope with the HTTP status that tells each
provider whether to retry (Mailgun: 406 = never).
"""

from __future__ import annotations

from flask import Flask, jsonify

from pipeline.errors import InputError
from web.envelopes import error_body


def register(app: Flask) -> None:
    from web.hooks import delivery, inbound, rpc

    inbound.bp.register_error_handler(InputError, _basic_auth_error)
    for module in (rpc, delivery):
        module.bp.register_error_handler(InputError, _hook_error)
    for module in (inbound, rpc, delivery):
        app.register_blueprint(module.bp)


def _hook_error(exc: InputError):
    response = jsonify(error_body(exc))
    response.status_code = exc.status
    return response


def _basic_auth_error(exc: InputError):
    """As ``_hook_error``; a 401 also asks for basic auth (SendGrid and Postmark endpoints)."""
    response = _hook_error(exc)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="intake"'
    return response
