"""Ignored subjects and excluded emails (list, create, delete): mail the filter stage drops."""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import Conflict, NotFound
from pipeline.store import filter_lists
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import DeletedEnvelope, answers, native
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("filters", __name__, url_prefix="/api")
    bp.get("/ignored-subjects")(list_ignored_subjects)
    bp.post("/ignored-subjects")(add_ignored_subject)
    bp.delete("/ignored-subjects/<int:entry_id>")(delete_ignored_subject)
    bp.get("/excluded-emails")(list_excluded_emails)
    bp.post("/excluded-emails")(add_excluded_email)
    bp.delete("/excluded-emails/<int:entry_id>")(delete_excluded_email)
    return bp


class IgnoredSubjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500)

    @field_validator("subject")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class ExcludedEmailCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=2,
        max_length=320,
        pattern=r"^([^@\s]+@|@)[^@\s.]+(\.[^@\s.]+)*$",
        description="An address (`bob@example.com`) or a whole domain (`@example.com`)",
    )


def entry(row: dict, column: str) -> dict:
    return {"id": row["id"], column: row[column], "created_at": iso(row["created_at"])}


def add(table: str, column: str, value: str):
    row = filter_lists.add(get_conn(), table, g.org_id, value)
    if row is None:
        raise Conflict(f"'{value}' is already in the list", column)
    return ok(entry(row, column), 201)


def remove(table: str, entry_id: int):
    if not filter_lists.remove(get_conn(), table, g.org_id, entry_id):
        raise NotFound("Entry not found")
    return jsonify({"success": True, "message": "Entry deleted"})


@require("read")
@native(resp=answers(), tags=["filters"])
def list_ignored_subjects():
    found = filter_lists.entries(get_conn(), "ignored_subjects", g.org_id)
    return ok([entry(r, "subject") for r in found])


@require("write")
@native(json=IgnoredSubjectCreate, resp=answers(409, ok=201), tags=["filters"])
def add_ignored_subject(json: IgnoredSubjectCreate):
    return add("ignored_subjects", "subject", json.subject)


@require("write")
@native(resp=answers(404, body=DeletedEnvelope), tags=["filters"])
def delete_ignored_subject(entry_id: int):
    return remove("ignored_subjects", entry_id)


@require("read")
@native(resp=answers(), tags=["filters"])
def list_excluded_emails():
    found = filter_lists.entries(get_conn(), "excluded_emails", g.org_id)
    return ok([entry(r, "email") for r in found])


@require("write")
@native(json=ExcludedEmailCreate, resp=answers(409, ok=201), tags=["filters"])
def add_excluded_email(json: ExcludedEmailCreate):
    return add("excluded_emails", "email", json.email.lower())


@require("write")
@native(resp=answers(404, body=DeletedEnvelope), tags=["filters"])
def delete_excluded_email(entry_id: int):
    return remove("excluded_emails", entry_id)
