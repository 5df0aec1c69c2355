"""Checks of the raw request that run before any view of any family, credentials or not.

PostgreSQL text cannot hold NUL, and a nesting bomb crashes the JSON parser and every
recursive walk after it; neither can be seen by a view's schema in time, and both used
to end in a 500. So before routing hands over to a view: NUL in a path value is 404
(no row has that name), NUL in a header is 400 and in a query parameter 422, naming it;
a JSON body must be standard JSON within ``json_input.MAX_DEPTH`` levels (400) and hold
only text PostgreSQL can store (422 naming the field): no lone surrogates, and no NUL
outside the webhooks that carry a mail's own content. Errors go through the matched
blueprint's handlers, so each family answers in its own envelope.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

from pipeline import json_input
from pipeline.errors import InputError, NotFound

#: Blueprints whose JSON body is a provider's copy of a mail: its text may hold NUL (the
#: pipeline stores the raw bytes), and refusing it would lose the mail. Lone surrogates
#: are refused even there: they cannot be encoded into the raw bytes either.
MAIL_BODY_BLUEPRINTS = frozenset({"hooks_inbound"})
NUL = "\x00"
HAS_NUL = "must not contain NUL characters"
SURROGATES = "must be valid Unicode (no lone surrogates)"


def register(app: Flask) -> None:
    """Run the checks before every view. Register it after any hook that sets the
    request's body limit, so that the limit holds when the body is read here.

    Every JSON body a view (or spectree) parses has passed ``json_input.loads`` here first,
    so the parsers after it never meet a nesting bomb or a non-finite number."""
    app.before_request(check_request)


def check_request() -> None:
    """Refuse NUL and nesting bombs before any view, authentication included, runs."""
    if request.url_rule is None:  # unrouted: the 404/405 answer needs no input
        return
    for value in (request.view_args or {}).values():
        if isinstance(value, str) and NUL in value:
            raise NotFound("Not found")
    for name, value in request.headers.items():
        if NUL in value:
            raise InputError(f"header {name}: must not contain NUL characters", name, 400)
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            field = name.replace(NUL, "")
            raise InputError(f"{field}: must not contain NUL characters", field, 422)
    if request.is_json and request.get_data(cache=True):
        check_json_body()


def check_json_body() -> None:
    try:
        body = json_input.loads(request.get_data(cache=True))
    except (json_input.TooDeep, json_input.NotFinite) as exc:
        raise InputError(f"Request body is not valid JSON: {exc}", None, 400) from None
    except ValueError:
        raise InputError("Request body is not valid JSON", None, 400) from None
    found = unstorable_text(body, allow_nul=request.blueprint in MAIL_BODY_BLUEPRINTS)
    if found is not None:
        field, problem = found
        raise InputError(f"{field}: {problem}", field, 422)


def unstorable_text(value: Any, allow_nul: bool = False) -> tuple[str, str] | None:
    """The dotted path of the first string (or key) in ``value`` that PostgreSQL text
    cannot hold, and why: NUL, or a lone surrogate (``"\\ud800"`` is valid JSON, but
    not UTF-8). Iterative, in document order."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        texts = [item] if isinstance(item, str) else []
        children: list[tuple[str, Any]] = []
        if isinstance(item, dict):
            texts = list(item)
            children = [(f"{path}.{k}" if path else str(k), v) for k, v in item.items()]
        elif isinstance(item, list):
            children = [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(item)]
        for text in texts:
            problem = text_problem(text, allow_nul)
            if problem:
                return path or "body", problem
        stack.extend(reversed(children))
    return None


def text_problem(text: str, allow_nul: bool = False) -> str | None:
    if NUL in text and not allow_nul:
        return HAS_NUL
    try:
        text.encode()
    except UnicodeEncodeError:
        return SURROGATES
    return None
