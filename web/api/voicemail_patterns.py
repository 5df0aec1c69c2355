"""An organization's own voicemail formats (native extension ``/api/voicemails/patterns``).

Each pattern has sender, subject and/or body regexes; all that are given must match, and
their named groups ``caller`` and ``receiver`` say who called which line. They are tried
in ``position`` order before the built-in formats, which the list also shows.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, g
from pydantic import BaseModel, Field, field_validator, model_validator

from pipeline.errors import NotFound
from pipeline.mail.voicemail_patterns import BUILTIN
from pipeline.store import voicemail_patterns
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import spec
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("voicemail_patterns", __name__, url_prefix="/api")
    bp.get("/voicemails/patterns")(list_patterns)
    bp.post("/voicemails/patterns")(create_pattern)
    bp.delete("/voicemails/patterns/<int:pattern_id>")(delete_pattern)
    return bp


GROUPS = {"caller", "receiver"}


class PatternCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    sender_regex: str | None = Field(None, max_length=1000)
    subject_regex: str | None = Field(None, max_length=1000)
    body_regex: str | None = Field(None, max_length=1000)
    position: int = Field(0, ge=0, le=10_000)
    is_active: bool = True

    @field_validator("sender_regex", "subject_regex", "body_regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression: {exc}") from None
        unknown = set(compiled.groupindex) - GROUPS
        if unknown:
            raise ValueError(f"unknown named groups {sorted(unknown)}; use caller and receiver")
        return value

    @model_validator(mode="after")
    def _some_regex(self) -> PatternCreate:
        if not (self.sender_regex or self.subject_regex or self.body_regex):
            raise ValueError("give at least one of sender_regex, subject_regex, body_regex")
        return self


@require("read")
@spec.validate(tags=["voicemails"])
def list_patterns():
    rows = voicemail_patterns.list_patterns(get_conn(), g.org_id)
    built_in = [
        {k: getattr(p, k) for k in ("name", "sender_regex", "subject_regex", "body_regex")}
        for p in BUILTIN
    ]
    return ok({"patterns": [pattern(r) for r in rows], "built_in": built_in})


@require("write")
@spec.validate(json=PatternCreate, tags=["voicemails"])
def create_pattern(json: PatternCreate):
    return ok(
        pattern(voicemail_patterns.create_pattern(get_conn(), g.org_id, json.model_dump())), 201
    )


@require("write")
@spec.validate(tags=["voicemails"])
def delete_pattern(pattern_id: int):
    if not voicemail_patterns.delete_pattern(get_conn(), g.org_id, pattern_id):
        raise NotFound("Voicemail pattern not found")
    return ok({"id": pattern_id, "message": "Voicemail pattern deleted"})


def pattern(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": iso(row["created_at"])}
