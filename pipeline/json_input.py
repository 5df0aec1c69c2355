"""The one reader of JSON from clients: bounded nesting.

The standard parser recurses once per level and raises ``RecursionError`` (not a
``ValueError``) on a body of a few thousand brackets; code that walks the parsed value
recursively (pydantic, NUL checks) fails on far fewer. No legitimate payload Intake
accepts nests deeper than a dozen levels, so anything past ``MAX_DEPTH`` is refused as
invalid JSON before any other code sees it. So are ``NaN`` and infinite numbers, which
the standard parser accepts although they are not JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64


class TooDeep(ValueError):
    """JSON nested deeper than the limit (a ``ValueError``, like any other bad JSON)."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels")


class NotFinite(ValueError):
    """``NaN``, ``Infinity`` or a number beyond a float: Python's parser takes them, but they
    are not JSON (RFC 8259 §6) and PostgreSQL's ``jsonb`` refuses them."""

    def __init__(self, token: str) -> None:
        super().__init__(f"{token[:20]} is not a finite JSON number")


def loads(data: str | bytes | bytearray, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` of standard JSON only: raises ``TooDeep`` past ``max_depth`` levels of
    arrays/objects and ``NotFinite`` for non-finite numbers."""
    kwargs.setdefault("parse_constant", _not_finite)
    kwargs.setdefault("parse_float", _finite_float)
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if depth_exceeds(value, max_depth):
        raise TooDeep(max_depth)
    return value


def _not_finite(token: str) -> float:
    raise NotFinite(token)


def _finite_float(token: str) -> float:
    number = float(token)
    if not math.isfinite(number):
        raise NotFinite(token)
    return number


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether ``value`` nests arrays/objects deeper than ``max_depth`` (no recursion)."""
    containers = (dict, list)
    stack = [(value, 1)] if isinstance(value, containers) else []
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, containers))
    return False
