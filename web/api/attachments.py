"""``002_…`` attachments: list per email, metadata, and safe downloads."""

from __future__ import annotations

from flask import Blueprint, g

from pipeline.errors import NotFound
from pipeline.store import emails, rows
from web import serialize
from web.auth import require
from web.db import get_conn
from web.downloads import blob_response
from web.envelopes import ok
from web.openapi import answers, native


def blueprint() -> Blueprint:
    bp = Blueprint("attachments", __name__, url_prefix="/api")
    bp.get("/emails/<int:email_id>/attachments")(list_for_email)
    bp.get("/emails/<int:email_id>/attachments/<int:attachment_id>")(download_for_email)
    bp.get("/attachments/<int:attachment_id>")(get_attachment)
    bp.get("/attachments/<int:attachment_id>/download")(download_attachment)
    return bp


def load_attachment(attachment_id: int, email_id: int | None = None) -> dict:
    row = emails.attachment(get_conn(), g.org_id, attachment_id, email_id)
    if row is None:
        raise NotFound("Attachment not found")
    return row


def download(row: dict):
    return blob_response(get_conn(), row["blob_sha256"], row["mime_type"], row["filename"])


@require("read")
@native(resp=answers(404), tags=["attachments"])
def list_for_email(email_id: int):
    conn = get_conn()
    if not rows.exists(conn, "messages", g.org_id, email_id):
        raise NotFound("Email not found")
    found = emails.attachments_of(conn, g.org_id, email_id)
    return ok(
        [{k: v for k, v in serialize.attachment(r).items() if k != "email_id"} for r in found]
    )


@require("read")
@native(resp=answers(404, body=None), tags=["attachments"])
def download_for_email(email_id: int, attachment_id: int):
    return download(load_attachment(attachment_id, email_id))


@require("read")
@native(resp=answers(404), tags=["attachments"])
def get_attachment(attachment_id: int):
    return ok(serialize.attachment(load_attachment(attachment_id)))


@require("read")
@native(resp=answers(404, body=None), tags=["attachments"])
def download_attachment(attachment_id: int):
    return download(load_attachment(attachment_id))
