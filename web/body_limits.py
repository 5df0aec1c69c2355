"""Per-route request body limits.

Every route reads at most ``max_json_bytes`` (a few MB: JSON APIs, the public RPC); only
views marked ``@large_body`` (raw mail, provider webhooks, attachments sent as base64) may
receive twice ``max_message_bytes``, as a mail at the size limit grows under base64 or
form encoding. Werkzeug answers 413 past the limit, before the view reads anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request

from config import Settings

F = TypeVar("F", bound=Callable[..., Any])
LARGE_BODY = "intake_large_body"


def large_body(view: F) -> F:
    """Mark a view that takes raw mail or attachments (the outermost decorator, so the
    function its blueprint routes to carries the mark)."""
    setattr(view, LARGE_BODY, True)
    return view


def init_app(app: Flask) -> None:
    @app.before_request
    def limit_body() -> None:
        settings: Settings = current_app.config["INTAKE_SETTINGS"]
        view = current_app.view_functions.get(request.endpoint or "")
        wide = getattr(view, LARGE_BODY, False)
        request.max_content_length = (
            settings.max_message_bytes * 2 if wide else settings.max_json_bytes
        )
