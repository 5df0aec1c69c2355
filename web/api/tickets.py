"""Tickets (Intake's own resource, in the native envelope): list, get, update, notes, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from flask import Blueprint, g
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.errors import InputError, NotFound
from pipeline.store import directory, rows, ticket_queries, ticket_updates, tickets
from web import serialize
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, pagination
from web.openapi import Id, PageQuery, answers, native


def blueprint() -> Blueprint:
    bp = Blueprint("tickets", __name__, url_prefix="/api")
    bp.get("/tickets")(list_tickets)
    bp.get("/tickets/<int:ticket_id>")(get_ticket)
    bp.patch("/tickets/<int:ticket_id>")(update_ticket)
    bp.post("/tickets/<int:ticket_id>/notes")(add_note)
    bp.get("/tickets/<int:ticket_id>/events")(ticket_events)
    return bp


Status = Literal["new", "reply", "pending", "solved", "closed", "on-hold"]
Label = Field(min_length=1, max_length=100)


class TicketQuery(PageQuery):
    status: list[Status] = Field(default_factory=list, max_length=6)
    label: list[str] = Field(default_factory=list, max_length=20)
    mailbox_id: Id | None = None
    contact_id: Id | None = None
    customer_id: Id | None = None
    agent_id: Id | None = None
    updated_since: datetime | None = None


class CustomField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    value: str | int | float | bool | None = None


def short_strings(values: list[str] | None) -> list[str] | None:
    if values is not None and any(not 1 <= len(v) <= 100 for v in values):
        raise ValueError("each entry must have 1 to 100 characters")
    return values


class TicketPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Status | None = None
    labels: list[str] | None = Field(None, max_length=50)
    tags: list[str] | None = Field(None, max_length=50)
    notes: str | None = Field(None, max_length=100_000)
    agent_ids: list[Id] | None = Field(None, max_length=50)
    customer_id: Id | None = None
    custom_fields: list[CustomField] | None = Field(None, max_length=100)
    acting_agent_id: Id | None = None

    _short = field_validator("labels", "tags")(short_strings)


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body_text: str = Field(min_length=1, max_length=100_000)
    body_html: str | None = Field(None, max_length=500_000)
    agent_id: Id | None = None


def load_ticket(ticket_id: int) -> dict[str, Any]:
    row = ticket_queries.detail(get_conn(), g.org_id, ticket_id)
    if row is None:
        raise NotFound("Ticket not found")
    return row


def full_ticket(ticket_id: int) -> dict[str, Any]:
    row = load_ticket(ticket_id)
    messages = tickets.messages_of(get_conn(), g.org_id, ticket_id)
    return {
        **serialize.ticket_detail(row),
        "messages": [serialize.ticket_message(m) for m in messages],
    }


def check_agents(agent_ids: list[int], field: str) -> None:
    unknown = directory.unknown_agents(get_conn(), g.org_id, agent_ids)
    if unknown:
        raise NotFound(f"Unknown or inactive agents: {unknown}", field)


@require("read")
@native(query=TicketQuery, resp=answers(), tags=["tickets"])
def list_tickets(query: TicketQuery):
    since = query.updated_since
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    filters = ticket_queries.TicketFilters(
        statuses=tuple(query.status),
        labels=tuple(query.label),
        mailbox_id=query.mailbox_id,
        contact_id=query.contact_id,
        customer_id=query.customer_id,
        agent_id=query.agent_id,
        updated_since=since,
    )
    found, total = ticket_queries.list_page(
        get_conn(), g.org_id, query.page, query.per_page, filters
    )
    return ok(
        [serialize.ticket_detail(r) for r in found],
        pagination=pagination(query.page, query.per_page, total),
    )


@require("read")
@native(resp=answers(404), tags=["tickets"])
def get_ticket(ticket_id: int):
    return ok(full_ticket(ticket_id))


@require("write")
@native(json=TicketPatch, resp=answers(404), tags=["tickets"])
def update_ticket(ticket_id: int, json: TicketPatch):
    conn = get_conn()
    ticket = ticket_updates.lock(conn, g.org_id, ticket_id)
    if ticket is None:
        raise NotFound("Ticket not found")
    values = json.model_dump(exclude_unset=True)
    for name in ("status", "labels", "tags", "notes", "agent_ids", "custom_fields"):
        if name in values and values[name] is None:
            raise InputError(f"{name}: may not be null", name, 422)
    actor = json.acting_agent_id
    if actor is not None:
        check_agents([actor], "acting_agent_id")
    if json.customer_id is not None and not rows.exists(
        conn, "customers", g.org_id, json.customer_id
    ):
        raise NotFound("Customer not found", "customer_id")
    tickets.set_fields(conn, ticket_id, values)
    if json.status is not None:
        ticket_updates.change_status(conn, g.org_id, ticket, json.status, actor)
    if json.agent_ids is not None:
        check_agents(json.agent_ids, "agent_ids")
        ticket_updates.assign(conn, g.org_id, ticket_id, json.agent_ids, actor)
    return ok(full_ticket(ticket_id))


@require("write")
@native(json=NoteCreate, resp=answers(404, ok=201), tags=["tickets"])
def add_note(ticket_id: int, json: NoteCreate):
    conn = get_conn()
    if ticket_updates.lock(conn, g.org_id, ticket_id) is None:
        raise NotFound("Ticket not found")
    if json.agent_id is not None:
        check_agents([json.agent_id], "agent_id")
    note_id = ticket_updates.add_note(
        conn, g.org_id, ticket_id, json.body_text, json.body_html, json.agent_id
    )
    note = next(m for m in tickets.messages_of(conn, g.org_id, ticket_id) if m["id"] == note_id)
    return ok(serialize.ticket_message(note), 201)


@require("read")
@native(resp=answers(404), tags=["tickets"])
def ticket_events(ticket_id: int):
    load_ticket(ticket_id)
    events = ticket_queries.events_of(get_conn(), g.org_id, ticket_id)
    return ok([serialize.tracking_event(e) for e in events])
