"""The other API families of the seeds, each a blueprint with its own paths, auth and
error envelope, all over the same core (``000_…`` incoming mails, ``003_…`` message API,
``004_…`` mail admin)."""

from __future__ import annotations

from flask import Flask, Response

from web.families import incoming_mails, mail_admin, message_api

FAMILIES = (incoming_mails, message_api, mail_admin)


def register(app: Flask) -> None:
    """Each family's blueprint brings its own ``InputError`` envelope, set by the
    family's ``blueprint()``, which builds a new one for every app."""
    for family in FAMILIES:
        app.register_blueprint(family.blueprint())


def error_for_path(path: str, status: int, message: str) -> Response | None:
    """The error in the envelope of the family serving ``path``; ``None`` outside them.

    Routing errors (unknown path, wrong method) happen before a blueprint is chosen, so
    the application's handlers ask here to answer them in the family's own shape.
    """
    for family in FAMILIES:
        if path.startswith(family.PREFIX):
            return family.error_response(status, message)
    return None
