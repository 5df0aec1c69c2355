"""The one reader of JSON from clients: bounded nesting.

The standard parser recurses once per level and raises ``RecursionError`` (not a
``ValueError``) on a body of a few thousand brackets; code that walks the parsed value
recursively (pydantic, NUL checks) fails on far fewer. No legitimate payload Intake
accepts nests deeper than a dozen levels, so anything past ``MAX_DEPTH`` is refused as
invalid JSON before any other code sees it.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64


class TooDeep(ValueError):
    """JSON nested deeper than the limit (a ``ValueError``, like any other bad JSON)."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested deeper than {max_depth} levels")


def loads(data: str | bytes | bytearray, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` that raises ``TooDeep`` past ``max_depth`` levels of arrays/objects."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise TooDeep(max_depth) from None
    if depth_exceeds(value, max_depth):
        raise TooDeep(max_depth)
    return value


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
