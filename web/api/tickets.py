"""Tickets (Intake's own resource, in the native envelope)."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, g

from pipeline.errors import NotFound
from pipeline.store import tickets
from web import serialize
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, pagination
from web.openapi import PageQuery, spec

bp = Blueprint("tickets", __name__, url_prefix="/api")

Status = Literal["new", "reply", "pending", "solved", "closed", "on-hold"]


class TicketQuery(PageQuery):
    status: Status | None = None


@bp.get("/tickets")
@require("read")
@spec.validate(query=TicketQuery, tags=["tickets"])
def list_tickets(query: TicketQuery):
    rows, total = tickets.list_page(get_conn(), g.org_id, query.page, query.per_page, query.status)
    return ok(
        [serialize.ticket(r) for r in rows],
        pagination=pagination(query.page, query.per_page, total),
    )


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
