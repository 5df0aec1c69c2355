"""``002_…`` webhooks: subscriptions (CRUD) and a test delivery that really goes out.

Secrets are stored encrypted and never returned, except once: the one Intake generates
when the client gives none is shown in the creation answer.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any, Literal
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g
from pydantic import BaseModel, Field

from config import Settings
from pipeline import crypto
from pipeline.errors import InputError, NotFound
from pipeline.outbound.webhooks import deliver_test
from pipeline.store import webhooks
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import spec
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("webhooks", __name__, url_prefix="/api")
    bp.get("/webhooks")(list_webhooks)
    bp.post("/webhooks")(create_webhook)
    bp.get("/webhooks/<int:webhook_id>")(get_webhook)
    bp.put("/webhooks/<int:webhook_id>")(update_webhook)
    bp.delete("/webhooks/<int:webhook_id>")(delete_webhook)
    bp.post("/webhooks/<int:webhook_id>/test")(test_webhook)
    return bp


SUPPORTED_EVENTS = (
    "email.received",
    "email.categorized",
    "voicemail.received",
    "sync.completed",
    "sync.failed",
    "ticket.created",
    "ticket.replied",
    "delivery.delivered",
    "delivery.opened",
    "delivery.clicked",
    "delivery.complained",
    "delivery.failed_permanent",
    "delivery.failed_temporary",
)
MAX_ID = 2**63 - 1  # bigint: a larger id in the path cannot exist
EventType = Literal[SUPPORTED_EVENTS]  # type: ignore[valid-type]


class WebhookCreate(BaseModel):
    url: str = Field(min_length=1, max_length=2000)
    events: list[EventType] = Field(min_length=1, max_length=len(SUPPORTED_EVENTS))
    secret: str | None = Field(None, min_length=8, max_length=200)
    is_active: bool = True


class WebhookUpdate(BaseModel):
    url: str | None = Field(None, min_length=1, max_length=2000)
    events: list[EventType] | None = Field(None, min_length=1, max_length=len(SUPPORTED_EVENTS))
    secret: str | None = Field(None, min_length=8, max_length=200)
    is_active: bool | None = None


def _settings() -> Settings:
    return current_app.config["INTAKE_SETTINGS"]


def check_url(url: str, settings: Settings) -> str:
    """https (http only where allowed), a host, and no literal private address unless
    allowed; names are resolved and checked again at each delivery."""
    if any(ord(char) < 33 or ord(char) == 127 for char in url.strip()):
        raise InputError("url must not contain spaces or control characters", "url", 422)
    parts = urlsplit(url.strip())
    allow_http = settings.webhook_allow_http or settings.fetch_allow_private
    if parts.scheme != "https" and not (allow_http and parts.scheme == "http"):
        raise InputError("url must be an https URL", "url", 422)
    if not parts.hostname:
        raise InputError("url must name a host", "url", 422)
    try:
        parts.port  # noqa: B018  (raises for a port out of range)
    except ValueError:
        raise InputError("url has an invalid port", "url", 422) from None
    if not settings.fetch_allow_private and _is_private_literal(parts.hostname):
        raise InputError("url must not point to a private address", "url", 422)
    return url.strip()


def _is_private_literal(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def serialize(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "url": row["url"],
        "events": row["events"],
        "is_active": row["is_active"],
        "has_secret": row["secret_enc"] is not None,
        "trigger_count": row["trigger_count"],
        "success_count": row["success_count"],
        "failure_count": row["failure_count"],
        "last_triggered_at": iso(row["last_triggered_at"]),
        "last_success_at": iso(row["last_success_at"]),
        "last_failure_at": iso(row["last_failure_at"]),
        "consecutive_failures": row["consecutive_failures"],
        "disabled_reason": row["disabled_reason"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def _found(webhook_id: int) -> dict[str, Any]:
    row = webhooks.get(get_conn(), g.org_id, webhook_id) if webhook_id <= MAX_ID else None
    if row is None:
        raise NotFound("Webhook not found")
    return row


@require("read")
@spec.validate(tags=["webhooks"])
def list_webhooks():
    rows = webhooks.list_all(get_conn(), g.org_id)
    return ok({"webhooks": [serialize(r) for r in rows], "supported_events": SUPPORTED_EVENTS})


@require("write")
@spec.validate(json=WebhookCreate, tags=["webhooks"])
def create_webhook(json: WebhookCreate):
    settings = _settings()
    url = check_url(json.url, settings)
    secret = json.secret or "whsec_" + secrets.token_urlsafe(32)
    row = webhooks.create(
        get_conn(),
        g.org_id,
        url,
        list(dict.fromkeys(json.events)),
        crypto.encrypt(settings.secret_key, secret),
        json.is_active,
    )
    shown = {"secret": secret} if json.secret is None else {}
    return ok({**serialize(row), **shown}, 201)


@require("read")
@spec.validate(tags=["webhooks"])
def get_webhook(webhook_id: int):
    return ok(serialize(_found(webhook_id)))


@require("write")
@spec.validate(json=WebhookUpdate, tags=["webhooks"])
def update_webhook(webhook_id: int, json: WebhookUpdate):
    _found(webhook_id)
    settings = _settings()
    values: dict[str, Any] = {}
    if json.url is not None:
        values["url"] = check_url(json.url, settings)
    if json.events is not None:
        values["events"] = list(dict.fromkeys(json.events))
    if json.secret is not None:
        values["secret_enc"] = crypto.encrypt(settings.secret_key, json.secret)
    if json.is_active is not None:
        values["is_active"] = json.is_active
    row = webhooks.update(get_conn(), g.org_id, webhook_id, values)
    assert row is not None
    return ok(serialize(row))


@require("write")
@spec.validate(tags=["webhooks"])
def delete_webhook(webhook_id: int):
    if webhook_id > MAX_ID or not webhooks.delete(get_conn(), g.org_id, webhook_id):
        raise NotFound("Webhook not found")
    return ok({"id": webhook_id, "message": "Webhook deleted"})


@require("write")
@spec.validate(tags=["webhooks"])
def test_webhook(webhook_id: int):
    _found(webhook_id)
    result = deliver_test(get_conn(), g.org_id, webhook_id, _settings())
    message = (
        "Test webhook delivered successfully"
        if result.ok
        else f"Test webhook delivery failed: {result.error}"
    )
    return ok(
        {
            "message": message,
            "delivered": result.ok,
            "http_code": result.response_code,
            "response": result.response_body,
        }
    )
