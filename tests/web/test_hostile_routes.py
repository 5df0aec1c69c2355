"""Every route of every family, fed hostile path segments, query values and JSON fields one at
a time, answers below 500 with a JSON error body: the siblings of issue 16 point 9's
findings that no schema-driven fuzzer reaches (the ``003`` path keys, the ``000``/``004``
families, the public RPC, the provider webhooks)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from tests.intake import provider_payloads as pp
from tests.web.native import build_world

#: Routes that talk to a fuzzed host (IMAP servers, webhook receivers) or serve static files.
SKIPPED = {
    "static",
    "accounts.test_account",
    "accounts.list_folders",
    "accounts.sync_account",
    "webhooks.test_webhook",
}
SEGMENTS = ["\x00", "a\x00b", "9" * 25, "-1", "²", "١٢", "..", "\u2028", "%", "x" * 2000, " "]
QUERY_VALUES = [
    "\x00",
    "9" * 25,
    "-" + "9" * 25,
    "²",
    "9999-12-31",
    "9999-12-31T23:59:59-05:00",
    "0001-01-01T00:00:00+05:00",
    "1e999",
    "nan",
    "x\x0by",
    "[",
    "x" * 5000,
    "",
]
JSON_VALUES: list[Any] = [
    2**70,
    -(2**70),
    1e308,
    "9" * 25,
    "²",
    "9999-12-31",
    "0001-01-01T00:00:00+05:00",
    "x\x0by",
    "x\x1cy",
    "x\r\nBcc: evil@example.org",
    "\ud800",
    "<²@example.org>",
    "http://127.0.0.1:99999/x",
    "http://[::1/x",
    "a" * 70_000,
    "",
    [],
    {},
    None,
    True,
    [[["x"]]],
    float("nan"),
    float("inf"),
]
#: Credentials no key has, in the header forms every family reads.
HEADERS = [
    {"Authorization": "Bearer ²"},
    {"Authorization": "Bearer a.b\x00"},
    {"Authorization": "Basic " + "x" * 5000},
    {"X-API-Key": "²", "X-API-Secret": "9" * 30},
    {"X-API-Key": "k\x00", "X-API-Secret": "s"},
]
#: Whole bodies that are not an object of the right shape.
BODIES: list[Any] = [[], "x", 1, None, [{"a": 1}], {"": ""}]


@pytest.fixture
def world(conn, pool, org, mailbox):
    built = build_world(conn, pool, org, "support@fuzz.test", "Fuzzed")
    endpoint = pp.make_endpoint(conn, mailbox, "postmark", None)
    values = {**built.ids, "apiKey": org.key.token, "userId": "u-1", "provider": "postmark"}
    values |= {"token": endpoint.path.rsplit("/", 1)[1], "ticketId": built.ids["ticket_id"]}
    values |= {"rule_id": built.ids["category_rule_id"], "entry_id": built.ids["excluded_email_id"]}
    values |= {"mail_id": built.ids["email_id"]}
    return values


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, OpenAPI path) of every routed view."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or rule.rule.startswith("/docs"):
            continue
        path = rule.rule
        for converter, name in [(c, n) for c, n in _arguments(rule)]:
            path = path.replace(f"<{converter}{name}>", "{" + name + "}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


def _arguments(rule) -> list[tuple[str, str]]:
    import re

    return [(m.group(1) or "", m.group(2)) for m in re.finditer(r"<(\w+:)?(\w+)>", rule.rule)]


def operation(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return doc["paths"].get(path, {}).get(method.lower(), {})


def query_names(op: dict[str, Any]) -> list[str]:
    names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
    return names or ["page"]


def body_schema(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return resolve(doc, schema) if schema else None


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref:
        return resolve(doc, doc["components"]["schemas"][ref.rsplit("/", 1)[1]])
    return schema


def example(doc: dict[str, Any], name: str, schema: dict[str, Any], ids: dict[str, Any]) -> Any:
    """A plausible valid value, so that the hostile field is the only thing wrong."""
    schema = resolve(doc, schema)
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return example(doc, name, option, ids)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return ids.get(name, ids.get(f"{name}_id", schema.get("minimum", 1)))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if "mail" in name.lower() or schema.get("format") == "email" or name in {"to", "from"}:
        return "support@example.com"
    if name == "organizationId":
        return ids["org_id"]
    return "Fuzz"


def baseline(doc: dict[str, Any], schema: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    return {n: example(doc, n, s, ids) for n, s in schema.get("properties", {}).items()}


def problem(response, what: str) -> str | None:
    """What is wrong with the answer: a 5xx, or an error without a JSON error body."""
    if response.status_code >= 500:
        return f"{response.status_code} {what}: {response.get_data(as_text=True)[:200]}"
    body = response.get_json(silent=True) if response.status_code >= 400 else {"error": "-"}
    if not (isinstance(body, dict) and (body.get("error") or body.get("message"))):
        return f"{response.status_code} without a JSON error: {what}"
    return None


def url(path: str, values: dict[str, Any], hostile: tuple[str, str] | None = None) -> str:
    for name, value in values.items():
        text = hostile[1] if hostile and hostile[0] == name else str(value)
        path = path.replace("{" + name + "}", quote(text, safe=""))
    return path


def test_hostile_values_in_every_route_get_a_4xx_never_a_500(app, client, org, world):
    ids = {**world, "org_id": str(org.org_id)}
    doc = client.get("/openapi.json").json
    checked, problems = 0, []

    def check(response, what: str) -> None:
        nonlocal checked
        checked += 1
        found = problem(response, what)
        if found:
            problems.append(found)

    for endpoint, method, path in routes(app):
        op = operation(doc, path, method)

        def call(target: str, method: str = method, **kw: Any):
            return client.open(target, method=method, headers=org.headers, **kw)

        for headers in HEADERS:
            target = url(path, ids)
            response = client.open(target, method=method, headers=headers, json={})
            check(response, f"{method} {target} with {str(headers)[:60]}")
        for name in [n for n in ids if "{" + n + "}" in path]:
            for segment in SEGMENTS:
                target = url(path, ids, (name, segment))
                check(call(target), f"{method} {target!r}")
        for name in query_names(op):
            for value in QUERY_VALUES:
                target = f"{url(path, ids)}?{quote(name)}={quote(value, safe='')}"
                check(call(target), f"{method} {target[:200]!r}")
        schema = body_schema(doc, op)
        if method in {"POST", "PUT", "PATCH"}:
            for body in BODIES:
                check(call(url(path, ids), json=body), f"{endpoint} body {body!r}")
        if schema is None:
            continue
        valid = baseline(doc, schema, ids)
        for field in schema.get("properties", {}):
            for value in JSON_VALUES:
                response = call(url(path, ids), json={**valid, field: value})
                check(response, f"{endpoint} {field}={str(value)[:80]!r}")
    assert not problems, "\n".join(problems[:80])
    assert checked > 3000
