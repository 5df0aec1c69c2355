"""API-key authentication and scopes; binds the caller's organization to ``g``.

Credentials come as ``X-API-Key`` + ``X-API-Secret`` (native API) or as a Bearer token
``<key>.<secret>`` (the ``000``/``004`` families). Every query a view makes is scoped
to ``g.org_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import after_this_request, current_app, g, request

from pipeline.errors import Forbidden, InputError, Unauthorized
from pipeline.store import keys
from web.db import get_conn
from web.ratelimit import Verdict

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
    conn = get_conn()
    row = keys.authenticate(conn, key, secret)
    if row is None:
        raise Unauthorized()
    g.api_key = row
    g.org_id = row["org_id"]
    keys.touch_last_used(conn, row["id"])
    return row


class RateLimited(InputError):
    def __init__(self) -> None:
        super().__init__("Rate limit exceeded; retry after the time in Retry-After", None, 429)


def enforce_rate_limit(row: dict[str, Any]) -> None:
    """Count this request for the key; every answer carries the ``X-RateLimit-*`` headers.

    Raises ``RateLimited`` (429 with ``Retry-After``) when a limit is used up."""
    enforce(current_app.extensions["intake_ratelimit"].hit(row))


def enforce_address_limit(endpoint: str, per_minute: int, per_hour: int) -> None:
    """As ``enforce_rate_limit``, counted for the client's address (unauthenticated calls)."""
    limiter = current_app.extensions["intake_ratelimit"]
    address = request.remote_addr or "unknown"
    enforce(limiter.hit_address(endpoint, address, per_minute, per_hour))


def enforce(verdict: Verdict) -> None:
    """Answer with ``verdict``'s headers (the tightest of this request's verdicts, when
    several limits counted it); raises ``RateLimited`` when it refuses."""
    if "rate_verdicts" not in g:
        g.rate_verdicts = []

        @after_this_request
        def add_headers(response):
            refused = [v for v in g.rate_verdicts if not v.allowed]
            tightest = refused[0] if refused else min(g.rate_verdicts, key=lambda v: v.remaining)
            response.headers.update(tightest.headers())
            return response

    g.rate_verdicts.append(verdict)
    if not verdict.allowed:
        raise RateLimited()


def nul_field(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string in ``value`` holding a NUL character."""
    if isinstance(value, str):
        return path or "body" if "\x00" in value else None
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        key_text = str(key)
        if "\x00" in key_text:
            return path or "body"
        found = nul_field(item, f"{path}.{key_text}" if path else key_text)
        if found:
            return found
    return None


def check_raw_input() -> None:
    """Refuse what schemas cannot see: a body that claims to be JSON but does not parse
    (spectree would silently read it as ``{}``), and NUL characters, which PostgreSQL text
    cannot hold (422 naming the field)."""
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            raise InputError(f"{name}: must not contain NUL characters", name, 422)
    if request.method not in ("POST", "PUT", "PATCH") or not request.get_data(cache=True):
        return
    parsed = request.get_json(silent=True) if request.is_json else None
    if request.is_json and parsed is None:
        raise InputError("Request body is not valid JSON", None, 400)
    field = nul_field(parsed) if parsed is not None else None
    if field is None and parsed is None and b"\x00" in request.get_data(cache=True):
        field = "body"
    if field:
        raise InputError(f"{field}: must not contain NUL characters", field, 422)


def has_scope(row: dict[str, Any], scope: str) -> bool:
    granted = set(row["scopes"])
    return scope in granted or (scope == "read" and "write" in granted)


def admit(key: str, secret: str, *demands: tuple[str, str]) -> dict[str, Any]:
    """The one gate of every family that takes API keys, in one order: authenticate, count
    the request against the key's rate limits, demand each ``(scope, refusal)`` and check
    the raw input. A family differs only in where its credentials come from."""
    row = authenticate(key, secret)
    enforce_rate_limit(row)
    for scope, refusal in demands:
        if not has_scope(row, scope):
            raise Forbidden(refusal)
    check_raw_input()
    return row


def require(scope: str | None) -> Callable[[F], F]:
    """Decorate a view: pass the shared gate (``admit``) with the headers' credentials and
    demand ``scope`` (``None``: any valid key)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = credentials()
            if found is None:
                raise Unauthorized("Missing API credentials (X-API-Key and X-API-Secret)")
            demands = () if scope is None else ((scope, f"This API key lacks the '{scope}' scope"),)
            admit(*found, *demands)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
