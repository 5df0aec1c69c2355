"""``002_…`` emails and their attachments."""

from __future__ import annotations

from flask import Blueprint, g

from pipeline.errors import NotFound
from pipeline.store import emails
from web import serialize
from web.auth import require
from web.db import get_conn
from web.downloads import blob_response
from web.envelopes import ok, pagination
from web.openapi import PageQuery, spec

bp = Blueprint("emails", __name__, url_prefix="/api")


@bp.get("/emails")
@require("read")
@spec.validate(query=PageQuery, tags=["emails"])
def list_emails(query: PageQuery):
    rows, total = emails.list_page(get_conn(), g.org_id, query.page, query.per_page)
    return ok(
        [serialize.email_summary(r) for r in rows],
        pagination=pagination(query.page, query.per_page, total),
    )


@bp.get("/emails/<int:email_id>")
@require("read")
def get_email(email_id: int):
    conn = get_conn()
    row = emails.get(conn, g.org_id, email_id)
    if row is None:
        raise NotFound("Email not found")
    emails.mark_read(conn, g.org_id, email_id)
    row = emails.get(conn, g.org_id, email_id)
    return ok(
        serialize.email_detail(
            row,
            emails.attachments_of(conn, g.org_id, email_id),
            emails.categories_of(conn, g.org_id, email_id),
        )
    )


@bp.get("/emails/<int:email_id>/attachments/<int:attachment_id>")
@require("read")
def download_attachment(email_id: int, attachment_id: int):
    conn = get_conn()
    row = emails.attachment(conn, g.org_id, attachment_id, email_id)
    if row is None:
        raise NotFound("Attachment not found")
    return blob_response(conn, row["blob_sha256"], row["mime_type"], row["filename"])
