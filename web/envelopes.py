"""The native envelope (``{"success": true, "data": …}``) and pagination helpers."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask.typing import ResponseReturnValue

from pipeline.errors import InputError


def ok(data: Any, status: int = 200, **extra: Any) -> ResponseReturnValue:
    return jsonify({"success": True, "data": data, **extra}), status


def error_body(exc: InputError) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return body


def int_arg(name: str, default: int, minimum: int = 1, maximum: int | None = None) -> int:
    """Integer query parameter with bounds; a non-integer or out-of-range value is a 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be an integer", name) from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f" and {maximum}" if maximum is not None else ""
        raise InputError(f"{name} must be between {minimum}{bound}", name)
    return value


def page_args(default_per_page: int = 50, max_per_page: int = 100) -> tuple[int, int]:
    return int_arg("page", 1), int_arg("per_page", default_per_page, 1, max_per_page)


def pagination(page: int, per_page: int, total: int) -> dict[str, int]:
    return {
        "page": page,
        "per_page": per_page,
        "total": total,
        "total_pages": (total + per_page - 1) // per_page,
    }
