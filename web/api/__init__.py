"""The native API (the ``002_…`` family and Intake's own resources), one module per resource."""

from __future__ import annotations

from flask import Blueprint, Flask, jsonify

from pipeline.errors import InputError
from web.envelopes import error_body


def register(app: Flask) -> None:
    from web.api import (
        accounts,
        attachments,
        categories,
        emails,
        filters,
        keys,
        organization,
        patterns,
        people,
        send,
        send_configs,
        tickets,
        voicemail_patterns,
        voicemails,
        webhooks,
    )

    for module in (
        keys,
        emails,
        attachments,
        categories,
        patterns,
        tickets,
        people,
        filters,
        organization,
        voicemails,
        voicemail_patterns,
        webhooks,
        send,
        send_configs,
        accounts,
    ):
        bp: Blueprint = module.bp
        if not bp._got_registered_once:  # a second app in one process (tests, workers)
            bp.register_error_handler(InputError, _native_error)
        app.register_blueprint(bp)
    from web import hooks

    hooks.register(app)


def _native_error(exc: InputError):
    return jsonify(error_body(exc)), exc.status
