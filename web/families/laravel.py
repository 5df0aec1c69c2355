"""Laravel's shapes, as the ``000_…`` and ``004_…`` families answer: the length-aware
paginator (``data`` / ``links`` / ``meta``), timestamps and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import jsonify
from flask.typing import ResponseReturnValue

# Laravel answers 401 with exactly this message for a missing or invalid token.
UNAUTHENTICATED = "Unauthenticated."
# Page links shown on each side of the current page (Laravel's ``onEachSide``).
EACH_SIDE = 3


def timestamp(value: datetime | None) -> str | None:
    """Eloquent's default JSON timestamp: ``2024-01-01T09:30:00.000000Z``."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error(status: int, message: str, field: str | None = None) -> ResponseReturnValue:
    """``{"message": …}``, with ``errors`` per field for validation failures."""
    if status == 401:
        message = UNAUTHENTICATED
    body: dict[str, Any] = {"message": message}
    if field:
        body["errors"] = {field: [message]}
    return jsonify(body), status


def paginate(
    items: list[Any], page: int, per_page: int, total: int, path: str, query: dict[str, str]
) -> dict[str, Any]:
    """The body of a ``LengthAwarePaginator`` (with the request's query string kept)."""
    last = max(1, -(-total // per_page))

    def url(number: int) -> str:
        return f"{path}?{urlencode({**query, 'page': number})}"

    start = (page - 1) * per_page
    return {
        "data": items,
        "links": {
            "first": url(1),
            "last": url(last),
            "prev": url(page - 1) if page > 1 else None,
            "next": url(page + 1) if page < last else None,
        },
        "meta": {
            "current_page": page,
            "from": start + 1 if items else None,
            "last_page": last,
            "links": _page_links(page, last, url),
            "path": path,
            "per_page": per_page,
            "to": start + len(items) if items else None,
            "total": total,
        },
    }


def _page_links(page: int, last: int, url) -> list[dict[str, Any]]:
    links = [
        {"url": url(page - 1) if page > 1 else None, "label": "&laquo; Previous", "active": False}
    ]
    window = range(max(1, page - EACH_SIDE), min(last, page + EACH_SIDE) + 1)
    links += [{"url": url(n), "label": str(n), "active": n == page} for n in window]
    links.append(
        {"url": url(page + 1) if page < last else None, "label": "Next &raquo;", "active": False}
    )
    return links
