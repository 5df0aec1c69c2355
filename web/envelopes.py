"""The native envelope (``{"success": true, "data": …}``) and pagination helpers."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from pipeline.errors import InputError


def ok(data: Any, status: int = 200, **extra: Any) -> ResponseReturnValue:
    return jsonify({"success": True, "data": data, **extra}), status


def error_body(exc: InputError) -> dict[str, Any]:
    body: dict[str, Any] = {"success": False, "error": exc.message}
    if exc.field:
        body["field"] = exc.field
    return body


def pagination(page: int, per_page: int, total: int) -> dict[str, int]:
    return {
        "page": page,
        "per_page": per_page,
        "total": total,
        "total_pages": (total + per_page - 1) // per_page,
    }
