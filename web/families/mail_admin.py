"""``004_…`` Mail admin API: POST and JSON only under ``/api/v1/mail/…``.

Bearer token of a key with the ``admin`` scope; abilities ``mail:read`` / ``mail:write``
map onto the ``read`` / ``write`` scopes (write implies read). Answers ``{"data": …}``;
errors ``{"message": …}``, with ``errors`` per field on a 422 (Laravel's shape).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Literal, TypeVar

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, Field

from pipeline import mailbox_claims, mailbox_secrets
from pipeline.errors import Conflict, InputError, NotFound, Unauthorized
from pipeline.intake.imap_address import ensure_allowed_host
from pipeline.store import filter_lists, mailbox_admin, mailboxes, sent_mail_audit, sent_mails
from web.auth import admit, credentials
from web.db import get_conn
from web.families import laravel
from web.openapi import Address, Id, spec

PREFIX = "/api/v1/mail"
TAGS = ["004 mail admin"]
SECURITY = {"Bearer": []}
ABILITY_SCOPES = {"mail:read": "read", "mail:write": "write"}
EMAIL = r"^[^@\s<>]+@[^@\s<>]+$"
EXCLUDED = r"^([^@\s<>]+@[^@\s<>]+|@[^@\s<>]+)$"
F = TypeVar("F", bound=Callable[..., Any])


def blueprint() -> Blueprint:
    bp = Blueprint("mail_admin", __name__, url_prefix=PREFIX)
    bp.register_error_handler(InputError, input_error)
    bp.before_request(json_only)
    bp.post("/mailboxes")(list_mailboxes)
    bp.post("/mailboxes/create")(create_mailbox)
    bp.post("/mailboxes/update")(update_mailbox)
    bp.post("/mailboxes/set-password")(set_password)
    bp.post("/mailboxes/delete")(delete_mailbox)
    bp.post("/subjects")(list_subjects)
    bp.post("/subjects/create")(create_subject)
    bp.post("/subjects/delete")(delete_subject)
    bp.post("/excluded-emails")(list_excluded)
    bp.post("/excluded-emails/create")(create_excluded)
    bp.post("/excluded-emails/delete")(delete_excluded)
    bp.post("/sent-mail")(recent_sent)
    bp.post("/sent-mail/search")(search_sent)
    bp.post("/sent-mail/show")(show_sent)
    return bp


def error_response(status: int, message: str, field: str | None = None):
    return laravel.error(status, message, field)


def input_error(exc: InputError):
    return error_response(exc.status, exc.message, exc.field)


def ability(name: str) -> Callable[[F], F]:
    """Decorate a view: the shared gate (``admit``, rate limits included) with the Bearer
    token, demanding the admin role and the scope behind ``name``."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            found = credentials()
            if found is None:
                raise Unauthorized()
            admit(
                *found,
                ("admin", "This action requires an admin token"),
                (ABILITY_SCOPES[name], f"This token lacks the '{name}' ability"),
            )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def json_only():
    if request.content_length and not request.is_json:
        raise InputError("Send the request body as application/json", None, 415)


class NoBody(BaseModel):
    pass


class MailboxFields(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, pattern=EMAIL)
    aliases: list[Address] | None = Field(None, max_length=50)
    inbox_name: str | None = Field(None, min_length=1, max_length=200)
    imap_host: str | None = None
    imap_port: int | None = Field(None, ge=1, le=65535)
    imap_username: str | None = None
    imap_encryption: Literal["ssl", "tls", "none"] | None = None
    sync_folders: list[str] | None = None
    mark_seen: bool | None = None
    is_active: bool | None = None
    smtp_host: str | None = None
    smtp_port: int | None = Field(None, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_tls: Literal["ssl", "starttls", "none"] | None = None


class MailboxCreate(MailboxFields):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(pattern=EMAIL)


class MailboxUpdate(MailboxFields):
    mailbox_id: Id


class MailboxRef(BaseModel):
    mailbox_id: Id


class SetPassword(BaseModel):
    mailbox_id: Id
    field: Literal["imap_password", "smtp_password", "oauth_client_secret"]
    value: str | None = Field(None, max_length=4096, description="empty or null clears it")


class SubjectCreate(BaseModel):
    subject: str = Field(min_length=1, max_length=998)


class ExcludedCreate(BaseModel):
    email: str = Field(pattern=EXCLUDED, description="an address or @domain")


class EntryRef(BaseModel):
    id: Id


class SentRecent(BaseModel):
    range_days: int = Field(7, ge=1, le=30)
    limit: int = Field(100, ge=1, le=500)


class SentSearch(BaseModel):
    q: str = Field(min_length=1, max_length=200)
    limit: int = Field(25, ge=1, le=100)


@ability("mail:read")
@spec.validate(json=NoBody, tags=TAGS, security=SECURITY)
def list_mailboxes(json: NoBody):
    """List mailboxes (no secrets) and the selectable queues."""
    conn = get_conn()
    rows = mailbox_admin.list_all(conn, g.org_id)
    return data(
        {
            "mailboxes": [mailbox_item(r) for r in rows],
            "queues": mailbox_admin.queues(conn, g.org_id),
        }
    )


@ability("mail:write")
@spec.validate(json=MailboxCreate, tags=TAGS, security=SECURITY)
def create_mailbox(json: MailboxCreate):
    """Create a mailbox; 409 if another mailbox already receives for one of its addresses."""
    conn = get_conn()
    values = _mailbox_values(json)
    _ensure_allowed_host(values)
    _ensure_free(conn, values)
    with mailbox_claims.claiming(conn, "aliases" if values.get("aliases") else "address"):
        mailbox_id = mailboxes.insert_editable(conn, g.org_id, values)
    return data(mailbox_item(mailbox_admin.get(conn, g.org_id, mailbox_id)), 201)


@ability("mail:write")
@spec.validate(json=MailboxUpdate, tags=TAGS, security=SECURITY)
def update_mailbox(json: MailboxUpdate):
    """Update a mailbox by ``mailbox_id``; 409 as on create."""
    conn = get_conn()
    values = _mailbox_values(json)
    values.pop("mailbox_id", None)
    _ensure_allowed_host(values)
    if mailbox_admin.get(conn, g.org_id, json.mailbox_id) is None:
        raise NotFound("Mailbox not found", "mailbox_id")
    _ensure_free(conn, values, json.mailbox_id)
    with mailbox_claims.claiming(conn, "aliases" if values.get("aliases") else "address"):
        mailboxes.update_editable(conn, g.org_id, json.mailbox_id, values)
    return data(mailbox_item(mailbox_admin.get(conn, g.org_id, json.mailbox_id)))


@ability("mail:write")
@spec.validate(json=SetPassword, tags=TAGS, security=SECURITY)
def set_password(json: SetPassword):
    """Set (or clear) a mailbox secret: ``imap_password``, ``smtp_password`` or ``oauth_client_secret``."""
    conn = get_conn()
    secret_key = current_app.config["INTAKE_SETTINGS"].secret_key
    mailbox_secrets.store_secret(
        conn, g.org_id, json.mailbox_id, json.field, json.value, secret_key
    )
    return data(mailbox_item(mailbox_admin.get(conn, g.org_id, json.mailbox_id)))


@ability("mail:write")
@spec.validate(json=MailboxRef, tags=TAGS, security=SECURITY)
def delete_mailbox(json: MailboxRef):
    """Delete a mailbox by ``mailbox_id``."""
    if not mailboxes.delete_account(get_conn(), g.org_id, json.mailbox_id):
        raise NotFound("Mailbox not found", "mailbox_id")
    return data({"id": json.mailbox_id, "deleted": True})


@ability("mail:read")
@spec.validate(json=NoBody, tags=TAGS, security=SECURITY)
def list_subjects(json: NoBody):
    """List ignored subjects."""
    return _list("ignored_subjects")


@ability("mail:write")
@spec.validate(json=SubjectCreate, tags=TAGS, security=SECURITY)
def create_subject(json: SubjectCreate):
    """Add an ignored subject."""
    return _add("ignored_subjects", json.subject.strip(), "subject")


@ability("mail:write")
@spec.validate(json=EntryRef, tags=TAGS, security=SECURITY)
def delete_subject(json: EntryRef):
    """Delete an ignored subject by ``id``."""
    return _delete("ignored_subjects", json.id)


@ability("mail:read")
@spec.validate(json=NoBody, tags=TAGS, security=SECURITY)
def list_excluded(json: NoBody):
    """List excluded emails (addresses and ``@domain`` entries)."""
    return _list("excluded_emails")


@ability("mail:write")
@spec.validate(json=ExcludedCreate, tags=TAGS, security=SECURITY)
def create_excluded(json: ExcludedCreate):
    """Add an excluded email or ``@domain``."""
    return _add("excluded_emails", json.email.strip().lower(), "email")


@ability("mail:write")
@spec.validate(json=EntryRef, tags=TAGS, security=SECURITY)
def delete_excluded(json: EntryRef):
    """Delete an excluded email by ``id``."""
    return _delete("excluded_emails", json.id)


@ability("mail:read")
@spec.validate(json=SentRecent, tags=TAGS, security=SECURITY)
def recent_sent(json: SentRecent):
    """Sent mail of the last ``range_days`` (1 to 30)."""
    rows = sent_mail_audit.recent(get_conn(), g.org_id, json.range_days, json.limit)
    return data([sent_item(r) for r in rows], range_days=json.range_days)


@ability("mail:read")
@spec.validate(json=SentSearch, tags=TAGS, security=SECURITY)
def search_sent(json: SentSearch):
    """Search sent mail by subject, addresses or Message-ID."""
    rows = sent_mail_audit.search(get_conn(), g.org_id, json.q.strip(), json.limit)
    return data([sent_item(r) for r in rows])


@ability("mail:read")
@spec.validate(json=EntryRef, tags=TAGS, security=SECURITY)
def show_sent(json: EntryRef):
    """One sent mail with its delivery events."""
    conn = get_conn()
    row = sent_mail_audit.get(conn, g.org_id, json.id)
    if row is None:
        raise NotFound("Sent mail not found", "id")
    events = sent_mails.events_of(conn, g.org_id, json.id)
    return data(sent_detail(row, events))


def data(payload: Any, status: int = 200, **extra: Any):
    return jsonify({"data": payload, **extra}), status


def _list(table: str):
    rows = filter_lists.entries(get_conn(), table, g.org_id)
    return data([entry_item(r) for r in rows])


def _add(table: str, value: str, field: str):
    added = filter_lists.add(get_conn(), table, g.org_id, value)
    if added is None:
        raise Conflict(f"The {field} is already in the list", field)
    return data(entry_item(added), 201)


def _delete(table: str, entry_id: int):
    if not filter_lists.remove(get_conn(), table, g.org_id, entry_id):
        raise NotFound("Entry not found", "id")
    return data({"id": entry_id, "deleted": True})


def _mailbox_values(body: MailboxFields) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=True)
    for name in mailbox_admin.REQUIRED:
        if name in values and values[name] is None:
            raise InputError(f"The {name} field cannot be null.", name, 422)
    if values.get("address"):
        values["address"] = mailbox_claims.normalise(values["address"], "address")
    if values.get("aliases") is not None:
        values["aliases"] = mailbox_claims.normalise_all(values["aliases"], "aliases")
    return values


def _ensure_allowed_host(values: dict[str, Any]) -> None:
    """No loopback, private or link-local IMAP host unless the operator allows it."""
    if values.get("imap_host"):
        allow = current_app.config["INTAKE_SETTINGS"].imap_allow_private
        ensure_allowed_host(values["imap_host"], allow, "imap_host")


def _ensure_free(conn, values: dict[str, Any], mailbox_id: int | None = None) -> None:
    for field in ("address", "aliases"):
        given = values.get(field)
        if given:
            addresses = [given] if isinstance(given, str) else given
            mailbox_claims.ensure_free(conn, addresses, field, mailbox_id)


def mailbox_item(row: dict[str, Any]) -> dict[str, Any]:
    """A mailbox without any secret: flags say which secrets are set."""
    return {
        key: laravel.timestamp(value) if key.endswith("_at") else value
        for key, value in row.items()
    }


def entry_item(row: dict[str, Any]) -> dict[str, Any]:
    return {k: laravel.timestamp(v) if k == "created_at" else v for k, v in row.items()}


def sent_item(row: dict[str, Any]) -> dict[str, Any]:
    return {k: laravel.timestamp(v) if k.endswith("_at") else v for k, v in row.items()}


def sent_detail(row: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    return {**sent_item(row), "delivery_events": [sent_item(e) for e in events]}
