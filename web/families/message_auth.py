"""Authentication of the ``003_…`` message API: the key in the path, the agent in the path.

``apiKey`` is the token form ``<key>.<secret>``; ``userId`` names the acting agent of the
key's organization (its external id, or its id). Binds ``g.org_id``, ``g.agent`` and
``g.sid`` (the organization's integer number, the ``sid`` of every answer).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g

from pipeline.errors import Forbidden, Unauthorized
from pipeline.store import contacts, keys
from web.auth import admit
from web.db import get_conn

F = TypeVar("F", bound=Callable[..., Any])


def path_key(scope: str) -> Callable[[F], F]:
    """Decorate a view taking ``apiKey`` and ``userId``: the shared gate (``admit``, rate
    limits included) with the path's key, demanding ``scope``; then the acting agent."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key, secret = keys.split_token(kwargs["apiKey"])
            if not key or not secret:
                raise Unauthorized("Invalid API key")
            admit(key, secret, (scope, f"This API key lacks the '{scope}' scope"))
            g.agent = contacts.find_agent(get_conn(), g.org_id, kwargs["userId"])
            if g.agent is None:
                raise Forbidden("Unknown user for this API key")
            g.sid = keys.org_sid(get_conn(), g.org_id)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
