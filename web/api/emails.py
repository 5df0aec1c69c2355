"""``002_…`` emails: list, search, stats, get (marks read), raw, patch, bulk, delete."""

from __future__ import annotations

from datetime import date
from typing import Literal

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import InputError, NotFound
from pipeline.store import categories, email_actions, email_stats, emails, mailboxes, messages
from web import serialize
from web.auth import require
from web.db import get_conn
from web.envelopes import ok, pagination
from web.openapi import DeletedEnvelope, Id, PageQuery, answers, native


def blueprint() -> Blueprint:
    bp = Blueprint("emails", __name__, url_prefix="/api")
    bp.get("/emails")(list_emails)
    bp.get("/emails/search")(search_emails)
    bp.get("/emails/stats")(email_statistics)
    bp.get("/emails/<int:email_id>")(get_email)
    bp.get("/emails/<int:email_id>/raw")(get_email_raw)
    bp.patch("/emails/<int:email_id>")(update_email)
    bp.post("/emails/bulk")(bulk_action)
    bp.delete("/emails/<int:email_id>")(delete_email)
    return bp


BulkAction = Literal["mark_read", "mark_unread", "star", "unstar", "archive", "unarchive", "delete"]


class EmailListQuery(PageQuery):
    model_config = ConfigDict(populate_by_name=True)

    account_id: Id | None = None
    folder: str | None = Field(None, max_length=500)
    sender: str | None = Field(None, alias="from", max_length=500)
    subject: str | None = Field(None, max_length=500)
    search: str | None = Field(None, max_length=500)
    has_attachments: bool | None = None
    is_read: bool | None = None
    is_starred: bool | None = None
    is_archived: bool | None = None
    since: date | None = None
    until: date | None = None
    sort: Literal["received_at", "subject", "from_address"] = "received_at"
    order: Literal["asc", "desc"] = "desc"


class SearchQuery(BaseModel):
    q: str = Field(min_length=2, max_length=500)
    limit: int = Field(20, ge=1, le=50)


class StatsQuery(BaseModel):
    account_id: Id | None = None


class EmailPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    is_read: bool | None = None
    is_starred: bool | None = None
    is_archived: bool | None = None
    categories: list[Id] | None = Field(None, max_length=100)


class BulkRequest(BaseModel):
    ids: list[Id] = Field(min_length=1, max_length=1000)
    action: BulkAction


def check_account(account_id: int | None) -> None:
    """An ``account_id`` filter must name one of the organization's mailboxes."""
    if account_id is not None and mailboxes.get(get_conn(), g.org_id, account_id) is None:
        raise NotFound("Account not found", "account_id")


def load_email(email_id: int) -> dict:
    row = emails.get(get_conn(), g.org_id, email_id)
    if row is None:
        raise NotFound("Email not found")
    return row


def email_filters(query: EmailListQuery) -> emails.EmailFilters:
    fields = query.model_dump(exclude={"page", "per_page", "sort", "order"})
    if fields["search"] is not None and len(fields["search"].strip()) < 2:
        raise InputError("search: at least 2 characters", "search", 422)
    return emails.EmailFilters(**fields)


@require("read")
@native(query=EmailListQuery, resp=answers(404), tags=["emails"])
def list_emails(query: EmailListQuery):
    check_account(query.account_id)
    rows, total = emails.list_page(
        get_conn(),
        g.org_id,
        query.page,
        query.per_page,
        email_filters(query),
        query.sort,
        query.order,
    )
    return ok(
        [serialize.email_summary(r) for r in rows],
        pagination=pagination(query.page, query.per_page, total),
    )


@require("read")
@native(query=SearchQuery, resp=answers(), tags=["emails"])
def search_emails(query: SearchQuery):
    text = query.q.strip()
    if len(text) < 2:
        raise InputError("q: at least 2 characters", "q", 422)
    rows = emails.search(get_conn(), g.org_id, text, query.limit)
    return ok(
        [{**serialize.email_summary(r), "rank": float(r["rank"])} for r in rows],
        query=text,
        count=len(rows),
    )


@require("read")
@native(query=StatsQuery, resp=answers(404), tags=["emails"])
def email_statistics(query: StatsQuery):
    check_account(query.account_id)
    conn, account = get_conn(), query.account_id
    return ok(
        serialize.email_stats(
            email_stats.totals(conn, g.org_id, account),
            email_stats.by_folder(conn, g.org_id, account),
            email_stats.by_category(conn, g.org_id, account),
            email_stats.by_day(conn, g.org_id, account),
        )
    )


def email_detail(email_id: int) -> dict:
    conn = get_conn()
    return serialize.email_detail(
        load_email(email_id),
        emails.attachments_of(conn, g.org_id, email_id),
        emails.categories_of(conn, g.org_id, email_id),
    )


@require("read")
@native(resp=answers(404), tags=["emails"])
def get_email(email_id: int):
    load_email(email_id)
    messages.set_flags(get_conn(), g.org_id, [email_id], "mark_read")
    return ok(email_detail(email_id))


@require("read")
@native(resp=answers(404), tags=["emails"])
def get_email_raw(email_id: int):
    return ok(serialize.email_raw(load_email(email_id)))


@require("write")
@native(json=EmailPatch, resp=answers(404), tags=["emails"])
def update_email(email_id: int, json: EmailPatch):
    conn = get_conn()
    load_email(email_id)
    flags = {
        "is_read": ("mark_read", "mark_unread"),
        "is_starred": ("star", "unstar"),
        "is_archived": ("archive", "unarchive"),
    }
    for name, (on, off) in flags.items():
        value = getattr(json, name)
        if value is not None:
            messages.set_flags(conn, g.org_id, [email_id], on if value else off)
    if json.categories is not None:
        unknown = categories.unknown(conn, g.org_id, json.categories)
        if unknown:
            raise NotFound(f"Unknown categories: {unknown}", "categories")
        categories.set_for_message(conn, g.org_id, email_id, json.categories)
    return ok(email_detail(email_id))


@require("write")
@native(json=BulkRequest, resp=answers(), tags=["emails"])
def bulk_action(json: BulkRequest):
    ids = sorted(set(json.ids))
    conn = get_conn()
    if json.action == "delete":
        done = email_actions.delete(conn, g.org_id, ids)
    else:
        done = messages.set_flags(conn, g.org_id, ids, json.action)
    not_found = [i for i in ids if i not in set(done)]
    return ok(
        {"action": json.action, "processed": done, "count": len(done), "not_found": not_found}
    )


@require("write")
@native(resp=answers(404, body=DeletedEnvelope), tags=["emails"])
def delete_email(email_id: int):
    if not email_actions.delete(get_conn(), g.org_id, [email_id]):
        raise NotFound("Email not found")
    return jsonify({"success": True, "message": "Email deleted"})
