"""``POST /api/auth/validate`` and API keys (admin scope: create shows the secret once)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, g
from pydantic import BaseModel, Field

from pipeline.errors import NotFound
from pipeline.store import keys
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import answers, native
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("keys", __name__, url_prefix="/api")
    bp.post("/auth/validate")(validate)
    bp.get("/keys")(list_keys)
    bp.post("/keys")(create_key)
    bp.get("/keys/<int:key_id>")(get_key)
    bp.delete("/keys/<int:key_id>")(revoke_key)
    return bp


Scope = Literal["read", "write", "send", "admin"]


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=lambda: ["read"], min_length=1)
    requests_per_minute: int = Field(60, ge=1, le=100_000)
    requests_per_hour: int = Field(1000, ge=1, le=10_000_000)


def key_info(row: dict[str, Any]) -> dict[str, Any]:
    """The seed's ``key`` object: id, name, permissions and rate limits."""
    return {
        "id": row["id"],
        "name": row["name"],
        "permissions": list(row["scopes"]),
        "rate_limit": {
            "requests_per_minute": row["requests_per_minute"],
            "requests_per_hour": row["requests_per_hour"],
        },
    }


def key_detail(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **key_info(row),
        "key": row["public_id"],
        "last_used_at": iso(row["last_used_at"]),
        "revoked_at": iso(row["revoked_at"]),
        "is_active": row["revoked_at"] is None,
        "created_at": iso(row["created_at"]),
    }


@require(None)
@native(resp=answers(), tags=["auth"])
def validate():
    return ok({"valid": True, "key": key_info(g.api_key)})


@require("admin")
@native(resp=answers(), tags=["keys"])
def list_keys():
    return ok([key_detail(r) for r in keys.list_keys(get_conn(), g.org_id)])


@require("admin")
@native(json=KeyCreate, resp=answers(ok=201), tags=["keys"])
def create_key(json: KeyCreate):
    conn = get_conn()
    issued = keys.create_key(
        conn,
        g.org_id,
        list(json.scopes),
        json.name,
        json.requests_per_minute,
        json.requests_per_hour,
    )
    row = keys.get_key(conn, g.org_id, issued.id)
    secret = {"secret": issued.secret, "token": issued.token}
    return ok({**key_detail(row), **secret}, 201)


@require("admin")
@native(resp=answers(404), tags=["keys"])
def get_key(key_id: int):
    row = keys.get_key(get_conn(), g.org_id, key_id)
    if row is None:
        raise NotFound("API key not found")
    return ok(key_detail(row))


@require("admin")
@native(resp=answers(404), tags=["keys"])
def revoke_key(key_id: int):
    row = keys.revoke(get_conn(), g.org_id, key_id)
    if row is None:
        raise NotFound("API key not found")
    return ok(key_detail(row))
