"""``002_…`` email sending: send, status (by id or Message-ID) and history.

A send is stored as ``queued`` and committed, then handed to the ``send_mail`` actor; the
client gets the id at once. A lost enqueue is harmless: the scheduler re-sends queued mail
that was never attempted.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated, Any, Literal

from flask import Blueprint, current_app, g
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator

from pipeline.errors import NotFound
from pipeline.mail.header_safety import check_address, check_header_text
from pipeline.outbound import api_send
from pipeline.store import sent_mails
from web.auth import require
from web.body_limits import large_body
from web.db import commit, get_conn
from web.envelopes import ok, pagination
from web.openapi import Id, PageQuery, spec
from web.serialize import iso

log = logging.getLogger(__name__)


def blueprint() -> Blueprint:
    bp = Blueprint("send", __name__, url_prefix="/api")
    bp.post("/send")(send)
    bp.get("/send/status/<path:reference>")(status)
    bp.get("/send/history")(history)
    return bp


MAX_RECIPIENTS = 50


def _as_list(value: Any) -> Any:
    """A string is one address or a comma-separated list of them."""
    return [part.strip() for part in value.split(",")] if isinstance(value, str) else value


Address = Annotated[str, AfterValidator(check_address)]
HeaderText = Annotated[str, AfterValidator(check_header_text)]
Recipients = Annotated[
    list[Address],
    BeforeValidator(_as_list, json_schema_input_type=str | list[str]),
    Field(max_length=MAX_RECIPIENTS),
]


class SendAttachment(BaseModel):
    name: HeaderText = Field(min_length=1, max_length=255)
    content: str | None = Field(None, description="Base64 bytes")
    url: str | None = Field(None, max_length=2048, description="Fetched by Intake (http/https)")
    content_type: HeaderText | None = Field(None, max_length=255)

    @model_validator(mode="after")
    def _one_source(self) -> SendAttachment:
        if (self.content is None) == (self.url is None):
            raise ValueError("give exactly one of content (base64) or url")
        return self


class SendRequest(BaseModel):
    to: Annotated[Recipients, Field(min_length=1)]
    subject: HeaderText = Field(min_length=1, max_length=500)
    html: str | None = None
    text: str | None = None
    from_email: Address | None = None
    from_name: HeaderText | None = Field(None, max_length=200)
    reply_to: Address | None = None
    cc: Recipients = []
    bcc: Recipients = []
    attachments: list[SendAttachment] = Field([], max_length=20)
    tags: list[Annotated[HeaderText, Field(min_length=1, max_length=100)]] = Field(
        [], max_length=20
    )
    config_id: Id | None = None
    ticket_id: Id | None = Field(None, description="Reply address threads answers to it")
    email_id: Id | None = Field(None, description="Received email this mail answers")


class HistoryQuery(PageQuery):
    status: Literal["queued", "sending", "sent", "failed"] | None = None
    since: date | None = Field(None, description="Sent on or after this day (Y-m-d)")
    until: date | None = Field(None, description="Sent on or before this day (Y-m-d)")


@large_body
@require("send")
@spec.validate(json=SendRequest, tags=["send"])
def send(json: SendRequest):
    settings = current_app.config["INTAKE_SETTINGS"]
    commit()  # end the authentication's transaction before fetching attachment URLs
    queued = api_send.send(get_conn(), g.org_id, json.model_dump(), settings)
    commit()
    try:
        current_app.extensions["intake_queue"].send(queued.job)
    except Exception:  # the scheduler's lost-mail sweep sends it later
        log.exception("could not enqueue sent_mail=%s", queued.sent_mail_id)
    body = {"id": queued.sent_mail_id, "message_id": queued.message_id, "status": "queued"}
    return ok(body, 202)


@require("read")
@spec.validate(tags=["send"])
def status(reference: str):
    conn = get_conn()
    row = sent_mails.find(conn, g.org_id, reference)
    if row is None:
        raise NotFound("Sent email not found")
    events = sent_mails.events_of(conn, g.org_id, row["id"])
    return ok({**sent_mail(row), "events": [event(e) for e in events]})


@require("read")
@spec.validate(query=HistoryQuery, tags=["send"])
def history(query: HistoryQuery):
    rows, total = sent_mails.history(
        get_conn(),
        g.org_id,
        status=query.status,
        since=query.since,
        until=query.until,
        page=query.page,
        per_page=query.per_page,
    )
    return ok(
        [sent_mail(r) for r in rows], pagination=pagination(query.page, query.per_page, total)
    )


def sent_mail(row: dict[str, Any]) -> dict[str, Any]:
    """The ``002_…`` status shape; ``brevo_status`` mirrors ``provider_status`` for its clients."""
    provider = (
        {"event": row["last_event"], "date": iso(row["last_event_at"])}
        if row["last_event"]
        else None
    )
    return {
        "id": row["id"],
        "message_id": row["message_id"],
        "status": row["status"],
        "to": row["to_addresses"],
        "cc": row["cc_addresses"],
        "bcc": row["bcc_addresses"],
        "from_email": row["from_address"],
        "from_name": row["from_name"],
        "reply_to": row["reply_to"],
        "subject": row["subject"],
        "tags": row["tags"],
        "config_id": row["config_id"],
        "ticket_id": row["ticket_id"],
        "attempts": row["attempts"],
        "created_at": iso(row["created_at"]),
        "sent_at": iso(row["sent_at"]),
        "error": row["error"],
        "smtp_response": row["smtp_response"],
        "provider_status": provider,
        "brevo_status": provider,
    }


def event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": row["event"],
        "date": iso(row["occurred_at"]),
        "provider": row["provider"],
        "recipient": row["recipient"],
        "status_code": row["status_code"],
        "diagnostic": row["diagnostic"],
    }
