"""``002_…`` pattern detection: detect in an email, list the rules, manage the org's own."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import Conflict, NotFound
from pipeline.mail.patterns import (
    BUILTIN_KEYS,
    BUILTIN_RULES,
    PatternMatch,
    detect,
    is_valid_format,
)
from pipeline.store import emails, patterns
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import DeletedEnvelope, Id, answers, native
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("patterns", __name__, url_prefix="/api")
    bp.post("/patterns/detect")(detect_patterns)
    bp.get("/patterns/rules")(list_rules)
    bp.post("/patterns/rules")(create_rule)
    bp.delete("/patterns/rules/<int:rule_id>")(delete_rule)
    return bp


class DetectRequest(BaseModel):
    email_id: Id


class PatternRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")
    name: str = Field(min_length=1, max_length=100)
    format: str = Field(min_length=1, max_length=200)
    is_active: bool = True

    @field_validator("format")
    @classmethod
    def compiles(cls, value: str) -> str:
        if not is_valid_format(value):
            raise ValueError("not a valid regular expression")
        return value


def own_rule(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "key": row["key"],
        "name": row["name"],
        "format": row["format"],
        "is_active": row["is_active"],
        "builtin": False,
        "created_at": iso(row["created_at"]),
    }


def match_json(match: PatternMatch) -> dict[str, Any]:
    rule = {"key": match.rule.key, "name": match.rule.name, "format": match.rule.format}
    if not match.rule.builtin:
        rule["id"] = match.rule.id
    return {"rule": rule, "value": match.value, "field": match.field, "position": match.start}


@require("read")
@native(json=DetectRequest, resp=answers(404), tags=["patterns"])
def detect_patterns(json: DetectRequest):
    conn = get_conn()
    email = emails.get(conn, g.org_id, json.email_id)
    if email is None:
        raise NotFound("Email not found", "email_id")
    found = detect(patterns.active_rules(conn, g.org_id), email["subject"], email["body_text"])
    thread = {
        "message_id": email["message_id"],
        "in_reply_to": email["in_reply_to"],
        "references": email["references"],
        "ticket_id": email["ticket_id"],
    }
    return ok(
        {"email_id": email["id"], "matches": [match_json(m) for m in found], "thread": thread}
    )


@require("read")
@native(resp=answers(), tags=["patterns"])
def list_rules():
    builtin = [{"key": r.key, "name": r.name, "format": r.format} for r in BUILTIN_RULES]
    own = [own_rule(r) for r in patterns.list_own(get_conn(), g.org_id)]
    return ok(builtin + own)


@require("write")
@native(json=PatternRuleCreate, resp=answers(409, ok=201), tags=["patterns"])
def create_rule(json: PatternRuleCreate):
    if json.key in BUILTIN_KEYS:
        raise Conflict(f"'{json.key}' is a built-in rule", "key")
    conn = get_conn()
    rule_id = patterns.create(conn, g.org_id, json.key, json.name, json.format, json.is_active)
    if rule_id is None:
        raise Conflict(f"A rule with key '{json.key}' exists", "key")
    return ok(own_rule(patterns.get(conn, g.org_id, rule_id)), 201)


@require("write")
@native(resp=answers(404, body=DeletedEnvelope), tags=["patterns"])
def delete_rule(rule_id: int):
    if not patterns.delete(get_conn(), g.org_id, rule_id):
        raise NotFound("Pattern rule not found")
    return jsonify({"success": True, "message": "Pattern rule deleted"})
