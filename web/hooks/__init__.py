"""Provider webhooks: inbound mail (``/hooks/inbound/…``, ``001_…``) and delivery events.

Every view here stores through the one door or ``pipeline.services.delivery_hooks`` in the
request's transaction, commits, and only then enqueues work and answers 2xx. Errors use
the ``{"success": false, "error": …}`` envelope (``web/hooks/errors.py``) with the HTTP
status that tells each provider whether to retry (Mailgun: 406 = never).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web.hooks import delivery, inbound, rpc

    for module in (inbound, rpc, delivery):
        app.register_blueprint(module.blueprint())
