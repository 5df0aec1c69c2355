"""Tickets (Intake's own resource, in the native envelope)."""

from __future__ import annotations

from flask import Blueprint, g, request

from pipeline.errors import InputError, NotFound
from pipeline.store import tickets
from web import serialize
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, page_args, pagination

bp = Blueprint("tickets", __name__, url_prefix="/api")

STATUSES = ("new", "reply", "pending", "solved", "closed", "on-hold")


@bp.get("/tickets")
@require("read")
def list_tickets():
    page, per_page = page_args()
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}", "status")
    rows, total = tickets.list_page(get_conn(), g.org_id, page, per_page, status)
    return ok([serialize.ticket(r) for r in rows], pagination=pagination(page, per_page, total))


@bp.get("/tickets/<int:ticket_id>")
@require("read")
def get_ticket(ticket_id: int):
    conn = get_conn()
    row = tickets.detail(conn, g.org_id, ticket_id)
    if row is None:
        raise NotFound("Ticket not found")
    messages = tickets.messages_of(conn, g.org_id, ticket_id)
    return ok(
        {**serialize.ticket(row), "messages": [serialize.ticket_message(m) for m in messages]}
    )
