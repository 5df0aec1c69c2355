"""``002_…`` mail accounts: IMAP mailboxes, their connection test, folders, sync and stats.

Thin views over ``pipeline.store.mailboxes`` and the IMAP functions of
``pipeline.intake``. A sync is not run in the request: it is queued for the workers,
which hold the folder's lock.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, current_app, g

from config import Settings
from pipeline import mailbox_claims
from pipeline.crypto import encrypt
from pipeline.errors import InputError, NotFound
from pipeline.intake import imap_folders
from pipeline.intake.imap_address import ensure_allowed_host
from pipeline.intake.imap_connect import ImapFailure
from pipeline.jobs import Job
from pipeline.queues import SYNC_IMAP_ACTOR
from pipeline.records import ImapAccount, Mailbox
from pipeline.store import mailbox_folders, mailbox_mail, mailboxes
from web.api import account_schemas as schemas
from web.auth import require
from web.db import get_conn
from web.envelopes import ok
from web.openapi import spec


def blueprint() -> Blueprint:
    bp = Blueprint("accounts", __name__, url_prefix="/api")
    bp.get("/accounts")(list_accounts)
    bp.post("/accounts")(create_account)
    bp.get("/accounts/<int:account_id>")(get_account)
    bp.put("/accounts/<int:account_id>")(update_account)
    bp.post("/accounts/<int:account_id>/test")(test_account)
    bp.post("/accounts/<int:account_id>/sync")(sync_account)
    bp.get("/accounts/<int:account_id>/folders")(list_folders)
    bp.get("/accounts/<int:account_id>/stats")(account_stats)
    bp.delete("/accounts/<int:account_id>")(delete_account)
    return bp


TAGS = ["accounts"]
# A web request must not wait on a dead server as long as a background sync may.
REQUEST_IMAP_TIMEOUT = 10


def _settings() -> Settings:
    settings: Settings = current_app.config["INTAKE_SETTINGS"]
    return settings.with_overrides(
        imap_timeout_seconds=min(settings.imap_timeout_seconds, REQUEST_IMAP_TIMEOUT)
    )


def _found(mailbox_id: int) -> dict[str, Any]:
    row = mailboxes.get_account(get_conn(), g.org_id, mailbox_id)
    if row is None:
        raise NotFound("Account not found")
    return row


def _imap_account(mailbox_id: int) -> ImapAccount | None:
    try:
        return mailboxes.imap_account(get_conn(), _settings().secret_key, mailbox_id, g.org_id)
    except ValueError:
        raise InputError(
            "The stored password cannot be decrypted; set the password again", "password", 422
        ) from None


def _stored_account(mailbox_id: int) -> ImapAccount:
    _found(mailbox_id)
    account = _imap_account(mailbox_id)
    if account is None:
        raise InputError("This account has no IMAP settings", "host", 422)
    return account


def _stats(mailbox_id: int) -> dict[str, Any]:
    conn = get_conn()
    return schemas.stats(
        mailbox_mail.stats(conn, g.org_id, mailbox_id),
        mailbox_folders.states(conn, g.org_id, mailbox_id),
    )


def _ensure_allowed_host(values: dict[str, Any]) -> None:
    """No loopback, private or link-local IMAP host unless the operator allows it."""
    if values.get("host"):
        ensure_allowed_host(values["host"], _settings().imap_allow_private, "host")


def _check_connection(values: dict[str, Any], password: str) -> None:
    """``test_connection`` before saving: raises a 422 saying what went wrong."""
    for field in ("host", "port", "username"):
        if not values.get(field):
            raise InputError(f"{field} is required to test the connection", field, 422)
    box = Mailbox(0, g.org_id, values["name"], values["email"])
    account = ImapAccount(
        box, values["host"], values["port"], values["username"], password, values["encryption"]
    )
    try:
        imap_folders.test_connection(account, _settings())
    except ImapFailure as failure:
        raise InputError(
            f"Connection test failed: {failure.message}", "test_connection", 422
        ) from None


def _saved(save) -> dict[str, Any]:
    """Run ``save``; 409 when another mailbox (of any organization) has the address."""
    with mailbox_claims.claiming(get_conn(), "email"):
        return save()


@require("read")
@spec.validate(query=schemas.AccountListQuery, tags=TAGS)
def list_accounts(query: schemas.AccountListQuery):
    """List mail accounts (with mail statistics when ``include_stats``)."""
    rows = mailboxes.list_accounts(get_conn(), g.org_id)
    if not query.include_stats:
        return ok([schemas.account(r) for r in rows])
    return ok([{**schemas.account(r), "stats": _stats(r["id"])} for r in rows])


@require("write")
@spec.validate(json=schemas.AccountCreate, tags=TAGS)
def create_account(json: schemas.AccountCreate):
    """Create a mail account; with ``test_connection`` only if the server accepts the login."""
    values = json.settings()
    _ensure_allowed_host(values)
    if json.test_connection:
        _check_connection(values, json.password)
    secret = encrypt(_settings().secret_key, json.password)
    row = _saved(lambda: mailboxes.create_account(get_conn(), g.org_id, values, secret))
    return ok(schemas.account(row), 201)


@require("read")
def get_account(account_id: int):
    """Account configuration and mail statistics (never the password: ``has_password``)."""
    row = _found(account_id)
    return ok({**schemas.account(row), "stats": _stats(account_id)})


@require("write")
@spec.validate(json=schemas.AccountUpdate, tags=TAGS)
def update_account(account_id: int, json: schemas.AccountUpdate):
    """Update an account; the password changes only when a non-empty one is given."""
    current = _found(account_id)
    values = json.settings()
    _ensure_allowed_host(values)
    password = json.password or None
    if json.test_connection:
        merged = {**schemas.account(current), **values}
        stored = None if password else _imap_account(account_id)
        _check_connection(merged, password or (stored.password if stored else ""))
    secret = encrypt(_settings().secret_key, password) if password else None
    conn = get_conn()
    row = _saved(lambda: mailboxes.update_account(conn, g.org_id, account_id, values, secret))
    return ok(schemas.account(row))


@require("write")
def test_account(account_id: int):
    """Log in and list the folders, or report the precise error."""
    account = _stored_account(account_id)
    try:
        folders = imap_folders.test_connection(account, _settings())
    except ImapFailure as failure:
        return ok(
            {"connected": False, "folders": [], "message": failure.message, "kind": failure.kind}
        )
    return ok({"connected": True, "folders": folders, "message": "Connection successful"})


@require("write")
@spec.validate(json=schemas.SyncRequestBody, tags=TAGS)
def sync_account(account_id: int, json: schemas.SyncRequestBody):
    """Queue a sync of one folder or all synced folders (``full_resync``, ``since_date``)."""
    account = _stored_account(account_id)
    folders = [json.folder] if json.folder else account.sync_folders
    since = json.since_date.isoformat() if json.since_date else None
    queue = current_app.extensions["intake_queue"]
    for folder in folders:
        queue.send(Job(SYNC_IMAP_ACTOR, (account_id, folder, json.full_resync, since, True)))
    return ok(
        {
            "account_id": account_id,
            "folders": folders,
            "full_resync": json.full_resync,
            "since_date": since,
            "queued": True,
        }
    )


@require("read")
def list_folders(account_id: int):
    """The server's folders with message and unseen counts (IMAP STATUS)."""
    account = _stored_account(account_id)
    try:
        statuses = imap_folders.folder_statuses(account, _settings())
    except ImapFailure as failure:
        status = 422 if failure.kind == "refused" else 502  # refused: nothing was asked
        raise InputError(f"IMAP server error: {failure.message}", None, status) from None
    return ok([asdict(s) for s in statuses])


@require("read")
def account_stats(account_id: int):
    """Mail counts of the account and the sync state of each folder."""
    _found(account_id)
    return ok(_stats(account_id))


@require("write")
@spec.validate(query=schemas.DeleteQuery, tags=TAGS)
def delete_account(account_id: int, query: schemas.DeleteQuery):
    """Delete the account; its mail too with ``delete_emails``, else it stays unlinked."""
    _found(account_id)
    conn = get_conn()
    deleted = mailbox_mail.delete_mail(conn, g.org_id, account_id) if query.delete_emails else 0
    mailboxes.delete_account(conn, g.org_id, account_id)
    return ok({"id": account_id, "deleted": True, "emails_deleted": deleted})
