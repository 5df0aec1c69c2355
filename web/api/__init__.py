"""The native API (the ``002_…`` family and Intake's own resources), one module per resource."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """The resources' blueprints; their ``InputError`` answers come from the application's
    handler (``web.create_app``), whose envelope is the native one."""
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
        app.register_blueprint(module.blueprint())
    from web import hooks

    hooks.register(app)
