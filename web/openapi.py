"""Request schemas declared once, used for validation and for ``/openapi.json``.

Views declare their inputs with ``@spec.validate(query=Model, json=Model, resp=Response(...))``
(spectree over pydantic v2). A validation failure becomes an ``InputError`` naming the first
offending field, so each API family's own error handler renders it in its own envelope.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from pydantic import BaseModel, Field
from spectree import SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData

from pipeline.errors import InputError

VALIDATION_STATUS = 422


def _model_name(model: type[Any]) -> str:
    return model.__name__


def _raise_input_error(
    req: Any, resp: Any, error: Exception | None, instance: Any, *_: Any
) -> None:
    """spectree ``before`` hook: turn a pydantic validation error into an ``InputError``."""
    if error is None:
        return
    problems = error.errors() if hasattr(error, "errors") else []
    if not problems:
        raise InputError("Invalid request", None, VALIDATION_STATUS)
    first = problems[0]
    field = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__") or None
    message = first.get("msg", "invalid value")
    raise InputError(f"{field}: {message}" if field else message, field, VALIDATION_STATUS)


spec = SpecTree(
    "flask",
    title="Intake API",
    version="1.0.0",
    path="docs",
    naming_strategy=_model_name,
    validation_error_status=VALIDATION_STATUS,
    before=_raise_input_error,
    security_schemes=[
        SecurityScheme(
            name="ApiKey",
            data=SecuritySchemeData(type="apiKey", name="X-API-Key", field_in="header"),
        ),
        SecurityScheme(
            name="ApiSecret",
            data=SecuritySchemeData(type="apiKey", name="X-API-Secret", field_in="header"),
        ),
        SecurityScheme(name="Bearer", data=SecuritySchemeData(type="http", scheme="bearer")),
    ],
    annotations=True,
)


class PageQuery(BaseModel):
    """``page`` / ``per_page`` of the native API (default 50, max 100)."""

    page: int = Field(1, ge=1)
    per_page: int = Field(50, ge=1, le=100)


def register(app: Flask) -> None:
    """Serve the generated document at ``/openapi.json`` and the docs page at ``/docs``."""
    spec.register(app)

    @app.get("/openapi.json")
    def openapi_json():
        return jsonify(spec.spec)
