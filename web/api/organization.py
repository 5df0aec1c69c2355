"""Delivery events (list, get) and the organization's settings (the policies of SPEC §2)."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, g
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import InputError, NotFound
from pipeline.store import delivery_queries, organizations, rows, rpc_access
from pipeline.store.deliveries import EVENTS
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, pagination
from web.hooks import rpc_gate
from web.openapi import Id, PageQuery, answers, native
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("organization", __name__, url_prefix="/api")
    bp.get("/delivery-events")(list_delivery_events)
    bp.get("/delivery-events/<int:event_id>")(get_delivery_event)
    bp.get("/organization")(get_organization)
    bp.patch("/organization")(update_organization)
    bp.post("/organization/rpc-secret")(issue_rpc_secret)
    bp.delete("/organization/rpc-secret")(clear_rpc_secret)
    return bp


Event = Literal[EVENTS]  # type: ignore[valid-type]


class DeliveryQuery(PageQuery):
    sent_mail_id: Id | None = None
    event: Event | None = None


class OrganizationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    unmatched_policy: Literal["create_ticket", "hold", "discard"] | None = None
    closed_reply_policy: Literal["reopen", "new_ticket", "hold"] | None = None
    append_open_ticket: bool | None = None
    auto_reply_enabled: bool | None = None
    auto_reply_subject: str | None = Field(None, min_length=1, max_length=500)
    auto_reply_body: str | None = Field(None, min_length=1, max_length=20_000)
    auto_reply_window_seconds: int | None = Field(None, ge=0, le=30 * 86400)
    rpc_auto_reply_enabled: bool | None = Field(
        None, description="Auto-replies also to mail that came through the public RPC"
    )
    flood_limit: int | None = Field(None, ge=1, le=100_000)
    flood_window_seconds: int | None = Field(None, ge=1, le=30 * 86400)


def delivery_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "sent_mail_id": row["sent_mail_id"],
        "email_id": row["source_message_id"],
        "message_id": row["message_id"],
        "event": row["event"],
        "provider": row["provider"],
        "recipient": row["recipient"],
        "status_code": row["status_code"],
        "diagnostic": row["diagnostic"],
        "occurred_at": iso(row["occurred_at"]),
        "created_at": iso(row["created_at"]),
    }


def organization(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "name": row["name"],
        **{name: row[name] for name in organizations.SETTINGS},
        "rpc_secret_set": row["rpc_secret_hash"] is not None,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


@require("read")
@native(query=DeliveryQuery, resp=answers(404), tags=["delivery events"])
def list_delivery_events(query: DeliveryQuery):
    conn = get_conn()
    if query.sent_mail_id and not rows.exists(conn, "sent_mails", g.org_id, query.sent_mail_id):
        raise NotFound("Sent mail not found", "sent_mail_id")
    found, total = delivery_queries.list_events(
        conn, g.org_id, query.page, query.per_page, query.sent_mail_id, query.event
    )
    return ok(
        [delivery_event(r) for r in found],
        pagination=pagination(query.page, query.per_page, total),
    )


@require("read")
@native(resp=answers(404), tags=["delivery events"])
def get_delivery_event(event_id: int):
    row = delivery_queries.get_event(get_conn(), g.org_id, event_id)
    if row is None:
        raise NotFound("Delivery event not found")
    return ok(delivery_event(row))


@require("read")
@native(resp=answers(), tags=["organization"])
def get_organization():
    return ok(organization(organizations.get(get_conn(), g.org_id)))


@require("admin")
@native(json=OrganizationPatch, resp=answers(), tags=["organization"])
def update_organization(json: OrganizationPatch):
    values = json.model_dump(exclude_unset=True)
    nulls = [k for k, v in values.items() if v is None]
    if nulls:
        raise InputError(f"{nulls[0]}: may not be null", nulls[0], 422)
    conn = get_conn()
    organizations.update(conn, g.org_id, values)
    return ok(organization(organizations.get(conn, g.org_id)))


@require("admin")
@native(resp=answers(ok=201), tags=["organization"])
def issue_rpc_secret():
    """A new secret for the public RPC (shown once); from now on calls without it fail."""
    secret = rpc_access.issue_secret(get_conn(), g.org_id)
    return ok({"rpc_secret": secret, "header": rpc_gate.SECRET_HEADER}, 201)


@require("admin")
@native(resp=answers(), tags=["organization"])
def clear_rpc_secret():
    """Make the public RPC public again, as its seed documents it."""
    conn = get_conn()
    rpc_access.clear_secret(conn, g.org_id)
    return ok(organization(organizations.get(conn, g.org_id)))
