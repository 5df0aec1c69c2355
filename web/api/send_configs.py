"""Send configurations (SMTP relays), a native extension at ``/api/send/configs``.

The password is encrypted at rest and never returned: reads say ``has_password``.
Managing relays takes the ``admin`` scope.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Blueprint, current_app, g
from pydantic import AfterValidator, BaseModel, Field

from pipeline import crypto
from pipeline.errors import InputError, NotFound
from pipeline.mail.header_safety import check_address, check_header_text
from pipeline.store import send_configs
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import spec
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("send_configs", __name__, url_prefix="/api")
    bp.get("/send/configs")(list_configs)
    bp.post("/send/configs")(create_config)
    bp.get("/send/configs/<int:config_id>")(get_config)
    bp.patch("/send/configs/<int:config_id>")(update_config)
    bp.delete("/send/configs/<int:config_id>")(delete_config)
    return bp


Host = Annotated[str, AfterValidator(check_header_text), Field(min_length=1, max_length=255)]
Address = Annotated[str, AfterValidator(check_address)]
Name = Annotated[str, AfterValidator(check_header_text)]
TlsMode = Literal["ssl", "starttls", "none"]


class ConfigCreate(BaseModel):
    name: Name = Field(min_length=1, max_length=100)
    host: Host
    port: int = Field(587, ge=1, le=65535)
    tls_mode: TlsMode = "starttls"
    username: Name | None = Field(None, max_length=255)
    password: str | None = Field(None, max_length=1024)
    from_email: Address
    from_name: Name | None = Field(None, max_length=200)
    is_default: bool = False


class ConfigUpdate(BaseModel):
    name: Name | None = Field(None, min_length=1, max_length=100)
    host: Host | None = None
    port: int | None = Field(None, ge=1, le=65535)
    tls_mode: TlsMode | None = None
    username: Name | None = Field(None, max_length=255)
    password: str | None = Field(None, max_length=1024, description="null removes it")
    from_email: Address | None = None
    from_name: Name | None = Field(None, max_length=200)
    is_default: bool | None = None


REQUIRED_ON_UPDATE = ("name", "host", "port", "tls_mode", "from_email", "is_default")


@require("admin")
@spec.validate(tags=["send"])
def list_configs():
    return ok([config(r) for r in send_configs.list_configs(get_conn(), g.org_id)])


@require("admin")
@spec.validate(json=ConfigCreate, tags=["send"])
def create_config(json: ConfigCreate):
    conn = get_conn()
    values = json.model_dump(exclude={"password"})
    created = send_configs.create_config(
        conn, g.org_id, **values, password_enc=_encrypt(json.password)
    )
    return ok(config(send_configs.get_config(conn, g.org_id, created.id)), 201)


@require("admin")
@spec.validate(tags=["send"])
def get_config(config_id: int):
    return ok(config(_get(config_id)))


@require("admin")
@spec.validate(json=ConfigUpdate, tags=["send"])
def update_config(config_id: int, json: ConfigUpdate):
    _get(config_id)
    changes = {name: getattr(json, name) for name in json.model_fields_set}
    for name in REQUIRED_ON_UPDATE:
        if name in changes and changes[name] is None:
            raise InputError(f"{name} cannot be null", name, 422)
    if "password" in changes:
        changes["password_enc"] = _encrypt(changes.pop("password"))
    send_configs.update_config(get_conn(), g.org_id, config_id, changes)
    return ok(config(_get(config_id)))


@require("admin")
@spec.validate(tags=["send"])
def delete_config(config_id: int):
    if not send_configs.delete_config(get_conn(), g.org_id, config_id):
        raise NotFound("Send configuration not found")
    return ok({"id": config_id, "message": "Send configuration deleted"})


def _encrypt(password: str | None) -> bytes | None:
    if password is None:
        return None
    return crypto.encrypt(current_app.config["INTAKE_SETTINGS"].secret_key, password)


def _get(config_id: int) -> dict[str, Any]:
    row = send_configs.get_config(get_conn(), g.org_id, config_id)
    if row is None:
        raise NotFound("Send configuration not found")
    return row


def config(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "host": row["host"],
        "port": row["port"],
        "tls_mode": row["tls_mode"],
        "username": row["username"],
        "has_password": row["has_password"],
        "from_email": row["from_email"],
        "from_name": row["from_name"],
        "is_default": row["is_default"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
