"""The webhook families' error envelope: ``{"success": false, "error": …, "field": …}``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from pipeline.errors import InputError
from web.envelopes import error_body


def hook_error(exc: InputError):
    response = jsonify(error_body(exc))
    response.status_code = exc.status
    return response


def basic_auth_error(exc: InputError):
    """As ``hook_error``; a 401 also asks for basic auth (SendGrid and Postmark endpoints)."""
    response = hook_error(exc)
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="intake"'
    return response


def blueprint(name: str, import_name: str, *, basic_auth: bool = False, **options) -> Blueprint:
    """A blueprint that renders ``InputError`` in this envelope."""
    bp = Blueprint(name, import_name, **options)
    bp.register_error_handler(InputError, basic_auth_error if basic_auth else hook_error)
    return bp
