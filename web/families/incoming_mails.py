"""``000_…`` Incoming mails: list held mail, delete it, convert it to a ticket or a reply.

Bearer token ``<key>.<secret>``; Laravel shapes (paginator, ``{"message": …}`` errors,
validation failures as 400 with ``errors`` per field, as the seed documents).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from flask import Blueprint, g, jsonify, request
from pydantic import BaseModel, Field

from pipeline.errors import Conflict, InputError, NotFound
from pipeline.jobs import Job
from pipeline.services import incoming_mail_conversions
from pipeline.store import incoming_mails, tickets
from web import db, serialize
from web.auth import require
from web.db import get_conn
from web.families import laravel
from web.hooks import storing
from web.openapi import MAX_PAGE, VALIDATION_STATUS, Id, spec

PREFIX = "/api/v1/incoming_mails"
PER_PAGE = 100
TAGS = ["000 incoming mails"]
SECURITY = {"Bearer": []}
# The seed's JavaScript example spells the filter in camelCase.
FILTER_ALIASES = {"outTicket": "out_ticket", "replyToClosedTicket": "reply_to_closed_ticket"}


def blueprint() -> Blueprint:
    bp = Blueprint("incoming_mails", __name__, url_prefix=PREFIX)
    bp.register_error_handler(InputError, input_error)
    bp.get("")(list_mails)
    bp.delete("/<int:mail_id>")(delete_mail)
    bp.put("/<int:mail_id>/ticket")(convert_to_ticket)
    bp.put("/<int:mail_id>/reply")(convert_to_reply)
    return bp


class IncomingMailQuery(BaseModel):
    filter: (
        Literal["out_ticket", "reply_to_closed_ticket", "outTicket", "replyToClosedTicket"] | None
    ) = None
    page: int = Field(1, ge=1, le=MAX_PAGE)


class ConvertToTicket(BaseModel):
    customer_id: Id = Field(strict=True, description="Customer to associate the ticket with")


def error_response(status: int, message: str, field: str | None = None):
    return laravel.error(status, message, field)


def input_error(exc: InputError):
    # This family documents validation failures as 400, where spectree says 422.
    status = 400 if exc.status == VALIDATION_STATUS else exc.status
    return error_response(status, exc.message, exc.field)


@require("read")
@spec.validate(query=IncomingMailQuery, tags=TAGS, security=SECURITY)
def list_mails(query: IncomingMailQuery):
    """List incoming mails, 100 per page; ``filter=out_ticket|reply_to_closed_ticket``."""
    kind = FILTER_ALIASES.get(query.filter or "", query.filter)
    rows, total = incoming_mails.list_page(get_conn(), g.org_id, kind, query.page, PER_PAGE)
    kept = {"filter": query.filter} if query.filter else {}
    return jsonify(
        laravel.paginate(
            [mail_item(r) for r in rows], query.page, PER_PAGE, total, request.base_url, kept
        )
    )


@require("write")
@spec.validate(tags=TAGS, security=SECURITY)
def delete_mail(mail_id: int):
    """Delete an incoming mail (201 with a message)."""
    if not incoming_mails.delete(get_conn(), g.org_id, mail_id):
        raise NotFound("Incoming mail not found")
    return jsonify({"message": "Incoming mail deleted successfully."}), 201


@require("write")
@spec.validate(json=ConvertToTicket, tags=TAGS, security=SECURITY)
def convert_to_ticket(mail_id: int, json: ConvertToTicket):
    """Convert an incoming mail into a new ticket for ``customer_id``."""
    conn = get_conn()
    done = incoming_mail_conversions.convert_to_ticket(conn, g.org_id, mail_id, json.customer_id)
    ticket = serialize.ticket(tickets.detail(conn, g.org_id, done.ticket_id))
    _commit_and_enqueue(done.jobs)
    return jsonify(ticket), 201


@require("write")
@spec.validate(tags=TAGS, security=SECURITY)
def convert_to_reply(mail_id: int):
    """Add an incoming mail as a reply to its ticket (``ticket_id``, or the closed ticket a
    held reply matched)."""
    conn = get_conn()
    done = incoming_mail_conversions.convert_to_reply(conn, g.org_id, mail_id)
    reply = next(
        (
            m
            for m in tickets.messages_of(conn, g.org_id, done.ticket_id)
            if m["message_id"] == mail_id
        ),
        None,
    )
    if reply is None:
        raise Conflict("The mail is already part of another ticket", "incoming_mail")
    ticket = serialize.ticket(tickets.detail(conn, g.org_id, done.ticket_id))
    _commit_and_enqueue(done.jobs)
    return jsonify(
        {**serialize.ticket_message(reply), "ticket_id": done.ticket_id, "ticket": ticket}
    ), 201


def _commit_and_enqueue(jobs: tuple[Job, ...]) -> None:
    """Commit, then hand the raised events to the workers (the scheduler retries pending
    deliveries whose job was lost)."""
    db.commit()
    storing.send_jobs(jobs)


def mail_item(row: dict[str, Any]) -> dict[str, Any]:
    """Exactly the documented properties; ``analysis`` is text (JSON-encoded)."""
    return {
        "id": row["id"],
        "message_id": row["message_id"],
        "sender": row["sender"],
        "recipient": row["recipient"],
        "subject": row["subject"],
        "body": row["body"],
        "ticket_id": row["ticket_id"],
        "reply_to_closed_ticket": row["reply_to_closed_ticket"],
        "analysis": json.dumps(row["analysis"]),
        "notified": row["notified"],
        "created_at": laravel.timestamp(row["created_at"]),
        "updated_at": laravel.timestamp(row["updated_at"]),
    }
