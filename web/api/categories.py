"""``002_…`` categories (list, get, emails) plus create/update/delete of categories and rules."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g, jsonify

from pipeline.errors import Conflict, InputError, NotFound
from pipeline.store import categories, emails
from web import serialize
from web.api.category_schemas import (
    CategoryCreate,
    CategoryEmailsQuery,
    CategoryListQuery,
    CategoryUpdate,
    RuleCreate,
    RuleUpdate,
    rule_problem,
)
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, pagination
from web.openapi import DeletedEnvelope, answers, native


def blueprint() -> Blueprint:
    bp = Blueprint("categories", __name__, url_prefix="/api")
    bp.get("/categories")(list_categories)
    bp.get("/categories/<int:category_id>")(get_category)
    bp.get("/categories/<int:category_id>/emails")(category_emails)
    bp.post("/categories")(create_category)
    bp.put("/categories/<int:category_id>")(update_category)
    bp.patch("/categories/<int:category_id>")(update_category)
    bp.delete("/categories/<int:category_id>")(delete_category)
    bp.get("/categories/<int:category_id>/rules")(list_rules)
    bp.post("/categories/<int:category_id>/rules")(create_rule)
    bp.put("/categories/<int:category_id>/rules/<int:rule_id>")(update_rule)
    bp.patch("/categories/<int:category_id>/rules/<int:rule_id>")(update_rule)
    bp.delete("/categories/<int:category_id>/rules/<int:rule_id>")(delete_rule)
    return bp


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:100].strip("-") or "category"


def load_category(category_id: int) -> dict[str, Any]:
    row = categories.get(get_conn(), g.org_id, category_id)
    if row is None:
        raise NotFound("Category not found")
    return row


def with_rules(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rules = categories.rules_of(get_conn(), g.org_id, [r["id"] for r in rows])
    return [serialize.category(r, [x for x in rules if x["category_id"] == r["id"]]) for r in rows]


def check_slug(slug: str, except_id: int | None = None) -> None:
    if categories.slug_taken(get_conn(), g.org_id, slug, except_id):
        raise Conflict(f"A category with slug '{slug}' exists", "slug")


@require("read")
@native(query=CategoryListQuery, resp=answers(), tags=["categories"])
def list_categories(query: CategoryListQuery):
    rows = categories.list_all(
        get_conn(), g.org_id, active_only=query.active_only, with_counts=query.include_stats
    )
    if query.include_rules:
        return ok(with_rules(rows))
    return ok([serialize.category(r) for r in rows])


@require("read")
@native(resp=answers(404), tags=["categories"])
def get_category(category_id: int):
    return ok(with_rules([load_category(category_id)])[0])


@require("read")
@native(query=CategoryEmailsQuery, resp=answers(404), tags=["categories"])
def category_emails(category_id: int, query: CategoryEmailsQuery):
    load_category(category_id)
    rows, total = emails.list_page(
        get_conn(),
        g.org_id,
        query.page,
        query.per_page,
        emails.EmailFilters(category_id=category_id),
    )
    return ok(
        [serialize.email_summary(r) for r in rows],
        pagination=pagination(query.page, query.per_page, total),
    )


@require("write")
@native(json=CategoryCreate, resp=answers(409, ok=201), tags=["categories"])
def create_category(json: CategoryCreate):
    values = json.model_dump(exclude_none=True)
    values["slug"] = json.slug or slugify(json.name)
    check_slug(values["slug"])
    category_id = categories.create(get_conn(), g.org_id, values)
    return ok(with_rules([load_category(category_id)])[0], 201)


@require("write")
@native(json=CategoryUpdate, resp=answers(404, 409), tags=["categories"])
def update_category(category_id: int, json: CategoryUpdate):
    load_category(category_id)
    values = json.model_dump(exclude_unset=True)
    for name in ("name", "slug", "is_active", "position"):
        if name in values and values[name] is None:
            raise InputError(f"{name}: may not be null", name, 422)
    if "slug" in values:
        check_slug(values["slug"], category_id)
    categories.update(get_conn(), g.org_id, category_id, values)
    return ok(with_rules([load_category(category_id)])[0])


@require("write")
@native(resp=answers(404, body=DeletedEnvelope), tags=["categories"])
def delete_category(category_id: int):
    if not categories.delete(get_conn(), g.org_id, category_id):
        raise NotFound("Category not found")
    return jsonify({"success": True, "message": "Category deleted"})


@require("read")
@native(resp=answers(404), tags=["categories"])
def list_rules(category_id: int):
    load_category(category_id)
    return ok(
        [
            serialize.category_rule(r)
            for r in categories.rules_of(get_conn(), g.org_id, [category_id])
        ]
    )


def load_rule(category_id: int, rule_id: int) -> dict[str, Any]:
    row = categories.get_rule(get_conn(), g.org_id, category_id, rule_id)
    if row is None:
        raise NotFound("Rule not found")
    return row


@require("write")
@native(json=RuleCreate, resp=answers(404, ok=201), tags=["categories"])
def create_rule(category_id: int, json: RuleCreate):
    load_category(category_id)
    conn = get_conn()
    values = json.model_dump()
    if values["position"] is None:
        values["position"] = categories.next_rule_position(conn, g.org_id)
    rule_id = categories.create_rule(conn, g.org_id, category_id, values)
    return ok(serialize.category_rule(load_rule(category_id, rule_id)), 201)


@require("write")
@native(json=RuleUpdate, resp=answers(404), tags=["categories"])
def update_rule(category_id: int, rule_id: int, json: RuleUpdate):
    current = load_rule(category_id, rule_id)
    values = json.model_dump(exclude_unset=True)
    for name in (
        "field",
        "operator",
        "value",
        "labels",
        "stop_processing",
        "is_active",
        "position",
    ):
        if name in values and values[name] is None:
            raise InputError(f"{name}: may not be null", name, 422)
    merged = {**current, **values}
    problem = rule_problem(
        merged["field"], merged["header_name"], merged["operator"], merged["value"]
    )
    if problem:
        raise InputError(problem[1], problem[0], 422)
    categories.update_rule(get_conn(), g.org_id, category_id, rule_id, values)
    return ok(serialize.category_rule(load_rule(category_id, rule_id)))


@require("write")
@native(resp=answers(404, body=DeletedEnvelope), tags=["categories"])
def delete_rule(category_id: int, rule_id: int):
    if not categories.delete_rule(get_conn(), g.org_id, category_id, rule_id):
        raise NotFound("Rule not found")
    return jsonify({"success": True, "message": "Rule deleted"})
