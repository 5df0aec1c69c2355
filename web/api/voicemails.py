"""``002_…`` voicemails: list with filters, detail, the MP3 stream (with Range), and PATCH."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import Blueprint, Response, g, jsonify, request
from pydantic import BaseModel, Field
from werkzeug.exceptions import RequestedRangeNotSatisfiable

from pipeline.errors import InputError, NotFound
from pipeline.store import blobs, voicemail_search, voicemails
from web.auth import require
from web.db import get_conn
from web.downloads import content_disposition
from web.envelopes import ok, pagination
from web.openapi import Id, PageQuery, spec
from web.serialize import iso


def blueprint() -> Blueprint:
    bp = Blueprint("voicemails", __name__, url_prefix="/api")
    bp.get("/voicemails")(list_voicemails)
    bp.get("/voicemails/<int:voicemail_id>")(get_voicemail)
    bp.patch("/voicemails/<int:voicemail_id>")(patch_voicemail)
    bp.get("/voicemails/<int:voicemail_id>/audio")(stream_audio)
    return bp


TRANSCODING_RETRY_SECONDS = 5


class VoicemailQuery(PageQuery):
    account_id: Id | None = None
    caller: str | None = Field(None, max_length=64, description="Caller number, partial match")
    receiver: str | None = Field(None, max_length=64, description="Receiver line, partial match")
    is_listened: bool | None = Field(None, description="0 or 1")
    since: date | None = Field(None, description="Received on or after this day (Y-m-d)")
    until: date | None = Field(None, description="Received on or before this day (Y-m-d)")
    sort: Literal["received_at", "caller_number", "duration_seconds"] = "received_at"
    order: Literal["asc", "desc"] = "desc"


class VoicemailPatch(BaseModel):
    is_listened: bool | None = None
    notes: str | None = Field(None, max_length=10_000)


@require("read")
@spec.validate(query=VoicemailQuery, tags=["voicemails"])
def list_voicemails(query: VoicemailQuery):
    filters = query.model_dump(exclude={"page", "per_page"})
    rows, total = voicemail_search.list_page(
        get_conn(), g.org_id, filters, query.page, query.per_page
    )
    return ok(
        [voicemail(r) for r in rows], pagination=pagination(query.page, query.per_page, total)
    )


@require("read")
@spec.validate(tags=["voicemails"])
def get_voicemail(voicemail_id: int):
    return ok(voicemail(_get(voicemail_id)))


@require("write")
@spec.validate(json=VoicemailPatch, tags=["voicemails"])
def patch_voicemail(voicemail_id: int, json: VoicemailPatch):
    changes = {k: getattr(json, k) for k in json.model_fields_set}
    if changes.get("is_listened", False) is None:
        raise InputError("is_listened must be true or false", "is_listened", 422)
    if not voicemails.update(get_conn(), g.org_id, voicemail_id, changes):
        raise NotFound("Voicemail not found")
    return ok(voicemail(_get(voicemail_id)))


@require("read")
@spec.validate(tags=["voicemails"])
def stream_audio(voicemail_id: int):
    """The MP3 with ``Range`` support (206/416) for seeking; playing it marks it listened."""
    conn = get_conn()
    row = _get(voicemail_id)
    if not row["mp3_sha256"]:
        return _no_audio(row)
    response = ranged_mp3(blobs.get(conn, row["mp3_sha256"]), row["mp3_sha256"])
    response.headers["Content-Disposition"] = content_disposition(
        f"voicemail-{voicemail_id}.mp3", inline=True
    )
    if request.method == "GET" and response.status_code in (200, 206):
        voicemails.mark_listened(conn, g.org_id, voicemail_id)
    return response


def ranged_mp3(data: bytes, etag: str) -> Response:
    """``data`` as ``audio/mpeg``, honouring ``Range``/``If-Range`` (RFC 9110 §14).

    Built as a plain (not passthrough) response so that spectree can wrap the view.
    """
    response = Response(data, mimetype="audio/mpeg")
    response.set_etag(etag)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-cache"
    try:
        return response.make_conditional(request, accept_ranges=True, complete_length=len(data))
    except RequestedRangeNotSatisfiable:
        unsatisfiable = jsonify({"success": False, "error": "Requested range not satisfiable"})
        unsatisfiable.status_code = 416
        unsatisfiable.headers["Content-Range"] = f"bytes */{len(data)}"
        return unsatisfiable


def _no_audio(row: dict[str, Any]):
    """404 with the reason when the audio is unusable; 409 while it is being converted."""
    if row["audio_error"]:
        raise NotFound(f"This voicemail has no playable audio: {row['audio_error']}")
    body = {"success": False, "error": "The audio is still being converted; try again shortly"}
    return jsonify(body), 409, {"Retry-After": str(TRANSCODING_RETRY_SECONDS)}


def _get(voicemail_id: int) -> dict[str, Any]:
    row = voicemails.get(get_conn(), g.org_id, voicemail_id)
    if row is None:
        raise NotFound("Voicemail not found")
    return row


def duration_formatted(seconds: int | None) -> str | None:
    """``0:42``, ``12:05``, ``1:02:03``."""
    if seconds is None:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def voicemail(row: dict[str, Any]) -> dict[str, Any]:
    """The ``002_…`` voicemail shape (plus ``audio_error`` saying why there is no audio)."""
    return {
        "id": row["id"],
        "email_id": row["message_id"],
        "account_id": row["mailbox_id"],
        "caller_number": row["caller_number"],
        "caller_formatted": row["caller_formatted"],
        "receiver_line": row["receiver_line"],
        "duration_seconds": row["duration_seconds"],
        "duration_formatted": duration_formatted(row["duration_seconds"]),
        "has_audio": row["has_audio"],
        "audio_error": row["audio_error"],
        "is_listened": row["is_listened"],
        "listened_at": iso(row["listened_at"]),
        "received_at": iso(row["received_at"]),
        "attachment_id": row["attachment_id"],
        "notes": row["notes"],
        "audio": {
            "attachment_id": row["attachment_id"],
            "filename": row["audio_filename"],
            "mime_type": row["audio_mime_type"],
            "file_size": row["audio_size"],
        }
        if row["attachment_id"]
        else None,
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
