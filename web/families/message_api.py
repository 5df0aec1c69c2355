"""``003_…`` Message API at ``/message/<name>/<apiKey>/<userId>[/<ticketId>]``.

Successes are ``{"result": "success", "json": …, "length": n, "next": url}``, errors
``{"result": "error", "message": …}``. Lists use keyset cursors carried by ``next``;
``fileType=csv`` answers CSV with the next page in a ``Link`` header.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, jsonify, request, url_for
from pydantic import AfterValidator, BaseModel, Field

from pipeline import fetch, ids
from pipeline.context import StageContext
from pipeline.errors import InputError, NotFound, PermanentError
from pipeline.mail.header_safety import check_address
from pipeline.services import message_api_tickets
from pipeline.store import address_log, emails, ticket_feed, ticket_queries, tickets
from web import db
from web.downloads import blob_response
from web.families import imbox
from web.families.message_auth import path_key
from web.hooks import storing
from web.openapi import Id, spec

PREFIX = "/message/"
TAGS = ["003 message API"]
Status = Literal["new", "reply", "pending", "solved", "closed", "on-hold"]
EMAIL = r"^[^@\s<>]+@[^@\s<>]+$"
TICKET_COLUMNS = [
    "sid", "inboxName", "ticketID", "status", "subject", "fromEmail", "labels",
    "createdDate", "updatedDate", "latestUpdated",
]  # fmt: skip
EMAIL_COLUMNS = [
    "createdDate",
    "inboxName",
    "fromAddress",
    "fromName",
    "to",
    "cc",
    "bcc",
    "ticketID",
]


def blueprint() -> Blueprint:
    bp = Blueprint("message_api", __name__, url_prefix="/message")
    bp.register_error_handler(InputError, input_error)
    bp.get("/listTickets/<apiKey>/<userId>")(list_tickets)
    bp.get("/grabTicket/<apiKey>/<userId>/<ticketId>")(grab_ticket)
    bp.post("/insertTicket/<apiKey>/<userId>")(insert_ticket)
    bp.get("/listTicketsEmails/<apiKey>/<userId>")(list_tickets_emails)
    bp.get("/grabAttachment/<apiKey>/<userId>/<int:attachment_id>")(attachment)
    return bp


class ListTicketsQuery(BaseModel):
    limit: int = Field(100, ge=1, le=1000)
    updatedAfter: str | None = None
    updatedBefore: str | None = None
    latestUpdatedAfter: str | None = None
    latestUpdatedBefore: str | None = None
    fromEmail: str | None = None
    status: Status | None = None
    fileType: Literal["json", "csv"] = "json"
    cursorId: Id | None = None
    cursorUpdated: int | None = Field(
        None, ge=0, le=imbox.MAX_EPOCH_MS, description="epoch milliseconds"
    )
    label: list[str] = Field(default_factory=list, description="repeatable; any of")


class ListEmailsQuery(BaseModel):
    startTime: str
    endTime: str
    timezone: str = imbox.DEFAULT_ZONE
    limit: int = Field(100, ge=1, le=1000)
    fileType: Literal["json", "csv"] = "json"
    cursorId: Id | None = None
    cursorCreated: int | None = Field(
        None, ge=0, le=imbox.MAX_EPOCH_MS, description="epoch milliseconds"
    )


#: The addresses go into the composed mail's headers: a plain ASCII addr-spec, as ``/api/send``.
Address = Annotated[str, Field(pattern=EMAIL), AfterValidator(check_address)]


class InsertTicketBody(BaseModel):
    fromEmail: Address
    fromName: str | None = None
    message: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    toEmail: Address
    appendOpenTicket: bool = True
    attachments: list[str] = Field(default_factory=list, max_length=fetch.MAX_URLS)
    assignAgents: list[str] = Field(default_factory=list)
    autoReply: bool = True
    labels: list[str] = Field(default_factory=list)
    messageType: Literal["internal", "external"] = "external"
    status: Status | None = None
    ticketId: int | str | None = None


def error_response(status: int, message: str, field: str | None = None):
    return jsonify({"result": "error", "message": message}), status


def input_error(exc: InputError):
    return error_response(exc.status, exc.message)


def success(payload: list[Any], next_url: str | None = None, meta: dict | None = None):
    """A list answer: ``next`` for the feeds, ``meta`` for a ticket."""
    body: dict[str, Any] = {"result": "success", "json": payload, "length": len(payload)}
    if meta is not None:
        body["meta"] = meta
    else:
        body["next"] = next_url
    return jsonify(body)


@path_key("read")
@spec.validate(query=ListTicketsQuery, tags=TAGS)
def list_tickets(apiKey: str, userId: str, query: ListTicketsQuery):
    """Tickets by row-change time, keyset-paginated through ``next``."""
    rows = ticket_feed.page(db.get_conn(), g.org_id, _ticket_filter(query))
    more, rows = len(rows) > query.limit, rows[: query.limit]
    next_url = _next_url("cursorUpdated", rows[-1]["updated_at"], rows[-1]["id"]) if more else None
    items = [_ticket_item(r) for r in rows]
    if query.fileType == "csv":
        flat = [{**i, "labels": ", ".join(i["labels"])} for i in items]
        return imbox.csv_response(TICKET_COLUMNS, flat, next_url)
    return success(items, next_url)


@path_key("read")
@spec.validate(tags=TAGS)
def grab_ticket(apiKey: str, userId: str, ticketId: str):
    """A ticket's messages in order, with its meta data."""
    conn = db.get_conn()
    number = ids.row_id(ticketId)
    ticket = tickets.detail(conn, g.org_id, number) if number is not None else None
    if ticket is None:
        raise NotFound("Ticket not found")
    messages = [_message_item(m, ticket) for m in tickets.messages_of(conn, g.org_id, ticket["id"])]
    return success(messages, meta=_ticket_meta(conn, ticket))


@path_key("write")
@spec.validate(json=InsertTicketBody, tags=TAGS)
def insert_ticket(apiKey: str, userId: str, json: InsertTicketBody):
    """Create a ticket, or append to one, bypassing Mail Flow."""
    settings = current_app.config["INTAKE_SETTINGS"]
    req = _ticket_request(json)
    files = message_api_tickets.fetch_attachments(req.attachment_urls, settings.fetch_allow_private)
    message_id = message_api_tickets.insert_ticket(
        db.get_conn(), g.org_id, req, files, StageContext(settings)
    )
    db.commit()
    try:
        storing.run_through(message_id)
    except PermanentError as exc:
        raise InputError(f"message {message_id} stored but could not be processed: {exc}") from None
    ticket_id = message_api_tickets.ticket_of(db.get_conn(), g.org_id, message_id)
    if ticket_id is None:  # a transient failure: the workers finish it; resending would repeat it
        return error_response(503, f"message {message_id} stored; its ticket is being created")
    return jsonify({"result": "success", "json": {"ticketID": ticket_id}})


@path_key("read")
@spec.validate(query=ListEmailsQuery, tags=TAGS)
def list_tickets_emails(apiKey: str, userId: str, query: ListEmailsQuery):
    """Every mail received or sent in a time window, with its addresses."""
    tz = imbox.zone(query.timezone)
    start = imbox.parse_moment(query.startTime, "startTime", tz)
    end = imbox.parse_moment(query.endTime, "endTime", tz, upper=True)
    cursor = _cursor(query.cursorCreated, query.cursorId, "cursorCreated")
    rows = address_log.page(db.get_conn(), g.org_id, start, end, query.limit, cursor)
    more, rows = len(rows) > query.limit, rows[: query.limit]
    last = rows[-1] if rows else None
    next_url = _next_url("cursorCreated", last["created_at"], last["cursor_key"]) if more else None
    items = [_email_item(r) for r in rows]
    if query.fileType == "csv":
        return imbox.csv_response(EMAIL_COLUMNS, [_flat_email(i) for i in items], next_url)
    return success(items, next_url)


@path_key("read")
@spec.validate(tags=TAGS)
def attachment(apiKey: str, userId: str, attachment_id: int):
    """Download an attachment named in a ``grabTicket`` answer."""
    conn = db.get_conn()
    row = emails.attachment(conn, g.org_id, attachment_id)
    if row is None:
        raise NotFound("Attachment not found")
    return blob_response(conn, row["blob_sha256"], row["mime_type"], row["filename"])


def _ticket_filter(query: ListTicketsQuery) -> ticket_feed.TicketFilter:
    utc = imbox.zone("UTC")

    def moment(value: str | None, field: str, upper: bool = False):
        return imbox.parse_moment(value, field, utc, upper=upper) if value else None

    cursor = _cursor(query.cursorUpdated, query.cursorId, "cursorUpdated")
    return ticket_feed.TicketFilter(
        limit=query.limit,
        updated_after=moment(query.updatedAfter, "updatedAfter"),
        updated_before=moment(query.updatedBefore, "updatedBefore", True),
        latest_after=moment(query.latestUpdatedAfter, "latestUpdatedAfter"),
        latest_before=moment(query.latestUpdatedBefore, "latestUpdatedBefore", True),
        from_email=query.fromEmail,
        status=query.status,
        labels=tuple(query.label),
        cursor=(imbox.from_epoch_ms(cursor[0]), cursor[1]) if cursor else None,
    )


def _cursor(at_ms: int | None, key: int | None, at_field: str) -> tuple[int, int] | None:
    if (at_ms is None) != (key is None):
        raise InputError(f"cursorId and {at_field} go together", at_field, 422)
    return (at_ms, key) if at_ms is not None and key is not None else None


def _next_url(at_field: str, at, key: int) -> str:
    """This request again, resuming after the last row delivered."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k not in {"cursorId", at_field}]
    kept += [("cursorId", str(key)), (at_field, str(imbox.epoch_ms(at)))]
    return f"{request.base_url}?{urlencode(kept)}"


def _ticket_request(body: InsertTicketBody) -> message_api_tickets.TicketRequest:
    ticket_id = None
    if body.ticketId is not None and str(body.ticketId).strip():
        ticket_id = ids.row_id(str(body.ticketId))
        if ticket_id is None:
            raise NotFound("Ticket not found", "ticketId")
    return message_api_tickets.TicketRequest(
        from_email=body.fromEmail.strip(),
        from_name=body.fromName,
        message=body.message,
        subject=body.subject,
        to_email=body.toEmail.strip(),
        agent_id=g.agent["id"],
        append_open_ticket=body.appendOpenTicket,
        attachment_urls=tuple(body.attachments),
        assign_agents=tuple(body.assignAgents),
        auto_reply=body.autoReply,
        labels=tuple(body.labels),
        message_type=body.messageType,
        status=body.status,
        ticket_id=ticket_id,
    )


def _ticket_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": g.sid,
        "inboxName": row["inbox_name"],
        "ticketID": row["id"],
        "status": row["status"],
        "subject": row["subject"],
        "fromEmail": row["from_email"],
        "labels": row["labels"],
        "createdDate": imbox.iso_ms(row["created_at"]),
        "updatedDate": imbox.iso_ms(row["updated_at"]),
        "latestUpdated": imbox.iso_ms(row["latest_updated_at"]),
    }


def _message_item(row: dict[str, Any], ticket: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": g.sid,
        "ticketID": str(ticket["id"]),
        "from": row["from_address"],
        "fromName": row["from_name"],
        "agentID": row["agent_id"],
        "messageType": row["type"],
        "messagePlain": row["body_text"],
        "messageHtml": row["body_html"],
        "attachments": [_attachment_url(a["id"]) for a in row["attachments"]],
        "date": imbox.iso_ms(row["created_at"]),
    }


def _attachment_url(attachment_id: int) -> str:
    args = request.view_args or {}
    return url_for(
        "message_api.attachment",
        apiKey=args["apiKey"],
        userId=args["userId"],
        attachment_id=attachment_id,
        _external=True,
    )


def _ticket_meta(conn, ticket: dict[str, Any]) -> dict[str, Any]:
    fields = ticket["custom_fields"]
    if isinstance(fields, dict):
        fields = [{"title": k, "value": v} for k, v in fields.items()]
    return {
        "tags": [{"tag": t} for t in ticket["tags"]],
        "labels": [{"label": label} for label in ticket["labels"]],
        "notes": ticket["notes"],
        "linkedTickets": [
            {"ticketId": i} for i in ticket_queries.linked_ticket_ids(conn, g.org_id, ticket["id"])
        ],
        "ticketStatus": ticket["status"],
        "assignedAgents": [
            {"id": a["id"], "agentName": a["name"], "agentEmail": a["email"]}
            for a in ticket_queries.assigned_agents(conn, g.org_id, ticket["id"])
        ],
        "customFields": fields,
    }


def _email_item(row: dict[str, Any]) -> dict[str, Any]:
    listed = {a["email"] for a in row["to_list"] + row["cc_list"]}
    hidden = [{"email": a.lower()} for a in row["envelope_to"] if a.lower() not in listed]
    sender = {"address": row["from_address"]}
    if row["from_name"]:
        sender["name"] = row["from_name"]
    return {
        "createdDate": imbox.iso_ms(row["created_at"]),
        "inboxName": row["inbox_name"],
        "from": sender,
        "ticketID": row["ticket_id"],
        "to": imbox.addresses(row["to_list"]),
        "cc": imbox.addresses(row["cc_list"]),
        "bcc": imbox.addresses(row["bcc_list"] + hidden),
    }


def _flat_email(item: dict[str, Any]) -> dict[str, Any]:
    def joined(entries: list[dict[str, str]]) -> str:
        return ", ".join(e["address"] for e in entries)

    return {
        "createdDate": item["createdDate"],
        "inboxName": item["inboxName"],
        "fromAddress": item["from"]["address"],
        "fromName": item["from"].get("name", ""),
        "to": joined(item["to"]),
        "cc": joined(item["cc"]),
        "bcc": joined(item["bcc"]),
        "ticketID": item["ticketID"],
    }
