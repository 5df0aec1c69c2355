"""API-key authentication and scopes; binds the caller's organization to ``g``.

Credentials come as ``X-API-Key`` + ``X-API-Secret`` (native API) or as a Bearer token
``<key>.<secret>`` (the ``000``/``004`` families). Every query a view makes is scoped
to ``g.org_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from pipeline.errors import Forbidden, Unauthorized
from pipeline.store import keys
from web.db import get_conn

F = TypeVar("F", bound=Callable[..., Any])


def credentials() -> tuple[str, str] | None:
    """The key and secret the request carries, from either header form."""
    key, secret = request.headers.get("X-API-Key"), request.headers.get("X-API-Secret")
    if key and secret:
        return key, secret
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        key, secret = keys.split_token(token)
        if key and secret:
            return key, secret
    return None


def authenticate(key: str, secret: str) -> dict[str, Any]:
    """Load and bind the key; raises ``Unauthorized``."""
    row = keys.authenticate(get_conn(), key, secret)
    if row is None:
        raise Unauthorized()
    g.api_key = row
    g.org_id = row["org_id"]
    return row


def has_scope(row: dict[str, Any], scope: str) -> bool:
    granted = set(row["scopes"])
    return scope in granted or (scope == "read" and "write" in granted)


def require(scope: str) -> Callable[[F], F]:
    """Decorate a view: authenticate the request and demand ``scope``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = credentials()
            if found is None:
                raise Unauthorized("Missing API credentials (X-API-Key and X-API-Secret)")
            row = authenticate(*found)
            if not has_scope(row, scope):
                raise Forbidden(f"This API key lacks the '{scope}' scope")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
