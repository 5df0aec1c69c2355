"""Request schemas declared once, used for validation and for ``/openapi.json``.

Views declare their inputs with ``@spec.validate(query=Model, json=Model, resp=Response(...))``
(spectree over pydantic v2). A validation failure becomes an ``InputError`` naming the first
offending field, so each API family's own error handler renders it in its own envelope.
"""

from __future__ import annotations

from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from flask import Flask, jsonify, redirect
from flask_swagger_ui import get_swaggerui_blueprint
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from spectree import Response, SecurityScheme, SpecTree
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
    loc = [str(part) for part in first.get("loc", ()) if part != "__root__"]
    if loc and loc[0] in getattr(req, "args", {}):
        loc = loc[:1]  # a repeated query parameter is named as such, not by its position
    field = ".".join(loc) or None
    message = first.get("msg", "invalid value")
    raise InputError(f"{field}: {message}" if field else message, field, VALIDATION_STATUS)


spec = SpecTree(
    "flask",
    title="Intake API",
    version="1.0.0",
    path="docs",
    page_templates={},  # spectree's pages load scripts from CDNs; /docs is served below
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


MAX_ID = 2**63 - 1

#: A row id in a query or body: positive and within PostgreSQL's ``bigint``.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def normalise_address(value: str) -> str:
    """A syntactically valid address, normalised; ``.test`` domains
    are allowed (staging helpdesks use them), and no DNS lookup is made."""
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as exc:
        raise ValueError(f"not a valid email address: {exc}") from None
    return checked.normalized


#: An email address from a client (JSON schema ``format: email``).
Address = Annotated[
    str,
    Field(max_length=320, json_schema_extra={"format": "email"}),
    AfterValidator(normalise_address),
]


#: The last page number any list accepts: beyond it the offset alone would outgrow what
#: PostgreSQL's ``OFFSET`` takes, long before any organization has that many rows.
MAX_PAGE = 1_000_000


class PageQuery(BaseModel):
    """``page`` / ``per_page`` of the native API (default 50, max 100)."""

    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(50, ge=1, le=100)


class Pagination(BaseModel):
    page: int
    per_page: int
    total: int
    total_pages: int


class Envelope(BaseModel):
    """``{"success": true, "data": …}`` (lists add ``pagination``)."""

    model_config = ConfigDict(extra="allow")

    success: bool
    data: Any = None
    pagination: Pagination | None = None


class ErrorEnvelope(BaseModel):
    """``{"success": false, "error": "…"}``; ``field`` names the offending input."""

    success: bool
    error: str
    field: str | None = None


class DeletedEnvelope(BaseModel):
    """``{"success": true, "message": "…"}`` after a deletion."""

    success: bool
    message: str


AUTH_ERRORS = ("HTTP_400", "HTTP_401", "HTTP_403", "HTTP_429")
NATIVE_SECURITY = [{"ApiKey": [], "ApiSecret": []}, {"Bearer": []}]


def native(**kwargs: Any) -> Any:
    """``spec.validate`` for a native endpoint: documents the API-key security schemes."""
    return spec.validate(security=NATIVE_SECURITY, **kwargs)


def answers(*errors: int, ok: int = 200, body: type[BaseModel] | None = Envelope) -> Response:
    """The documented responses of a native endpoint: its success, the authentication and
    rate-limit errors every endpoint can give, validation (422) and the listed ``errors``."""
    codes: dict[str, Any] = {f"HTTP_{ok}": body} if body else {}
    for code in (*AUTH_ERRORS, "HTTP_422", *(f"HTTP_{e}" for e in errors)):
        codes[code] = ErrorEnvelope
    if body is None:
        return Response(f"HTTP_{ok}", **codes)
    return Response(**codes)


DOCS_PATH = "/docs"
#: Pages spectree used to serve (from CDNs); they now lead to the one packaged page.
FORMER_DOCS_PAGES = ("swagger", "redoc", "scalar")


def register(app: Flask) -> None:
    """Serve the generated document at ``/openapi.json`` and Swagger UI at ``/docs/``.

    Swagger UI's files come from the pinned ``flask-swagger-ui`` wheel and are served by
    this app, so the page works offline and loads no script from another origin."""
    spec.register(app)

    @app.get("/openapi.json")
    def openapi_json():
        return jsonify(spec.spec)

    config = {"app_name": "Intake API", "validatorUrl": None, "layout": "BaseLayout"}
    app.register_blueprint(get_swaggerui_blueprint(DOCS_PATH, "/openapi.json", config=config))
    for page in FORMER_DOCS_PAGES:
        app.add_url_rule(
            f"{DOCS_PATH}/{page}/",
            endpoint=f"docs_{page}",
            view_func=lambda: redirect(f"{DOCS_PATH}/", 308),
        )
