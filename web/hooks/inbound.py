"""``POST /hooks/inbound/<provider>/<token>``: Mailgun, SendGrid and Postmark inbound mail.

The token names the endpoint (organization, mailbox, provider and its secret). Mailgun
requests must carry a fresh, unused signature made with the endpoint's signing key;
SendGrid and Postmark cannot sign, so an endpoint with a secret demands it as the HTTP
basic-auth password (any user name).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from contextlib import nullcontext

from flask import Blueprint, jsonify, request

from pipeline.db import Connection
from pipeline.errors import InputError, NotFound, Unauthorized
from pipeline.intake.providers import Inbound, mailgun, postmark, sendgrid
from pipeline.records import Mailbox
from pipeline.store import endpoints, mailboxes
from web import db
from web.body_limits import large_body
from web.hooks import errors, forms, replay, storing
from web.openapi import spec


def blueprint() -> Blueprint:
    bp = errors.blueprint(
        "hooks_inbound", __name__, basic_auth=True, url_prefix=endpoints.PATH_PREFIX
    )
    bp.post("/<provider>/<token>")(receive)
    return bp


@large_body
@spec.validate(tags=["provider webhooks"])
def receive(provider: str, token: str):
    conn = db.get_conn()
    endpoint = endpoints.find(conn, provider, token) if provider in RECEIVERS else None
    if endpoint is None:
        raise NotFound("Unknown inbound endpoint")
    inbound, nonce = RECEIVERS[provider](endpoint)
    mailbox = _mailbox(conn, endpoint, inbound)
    with replay.once(provider, nonce) if nonce else nullcontext():
        message_id = storing.store(inbound, mailbox, f"webhook:{provider}")
    storing.hand_over(message_id)
    return jsonify({"success": True, "id": message_id}), 200


def _secret(endpoint: endpoints.Endpoint) -> str | None:
    return endpoints.secret_of(storing.settings().secret_key, endpoint)


def _mailgun(endpoint: endpoints.Endpoint) -> tuple[Inbound, str | None]:
    key = _secret(endpoint)
    if not key:
        raise InputError("this Mailgun endpoint has no signing key", "signature", 406)
    content_type, body = request.content_type or "", request.get_data()
    signed = forms.named_fields(content_type, body, mailgun.SIGNATURE_FIELDS)
    max_age = storing.settings().webhook_max_age_seconds
    nonce = mailgun.verify(key, mailgun.text_fields(signed), time.time(), max_age)
    fields, files = forms.form_fields(content_type, body)  # only once the signature holds
    form = mailgun.text_fields(fields)
    return mailgun.from_form(form, files, fields.get("body-mime")), nonce


def _sendgrid(endpoint: endpoints.Endpoint) -> tuple[Inbound, str | None]:
    _check_basic_auth(endpoint)
    fields, files = forms.form_fields(request.content_type or "", request.get_data())
    return sendgrid.from_fields(fields, files), None


def _postmark(endpoint: endpoints.Endpoint) -> tuple[Inbound, str | None]:
    _check_basic_auth(endpoint)
    return postmark.from_json(storing.json_body()), None


RECEIVERS: dict[str, Callable[[endpoints.Endpoint], tuple[Inbound, str | None]]] = {
    "mailgun": _mailgun,
    "sendgrid": _sendgrid,
    "postmark": _postmark,
}


def _check_basic_auth(endpoint: endpoints.Endpoint) -> None:
    """Raises ``Unauthorized`` unless the basic-auth password is the endpoint's secret."""
    secret = _secret(endpoint)
    if secret is None:
        return
    auth = request.authorization
    given = auth.password if auth is not None and auth.type == "basic" else None
    if not given or not hmac.compare_digest(given.encode(), secret.encode()):
        raise Unauthorized("Missing or wrong basic-auth password for this endpoint")


def _mailbox(conn: Connection, endpoint: endpoints.Endpoint, inbound: Inbound) -> Mailbox:
    """The endpoint's mailbox, or else the organization's mailbox for the recipient."""
    if endpoint.mailbox_id is not None:
        box = mailboxes.get(conn, endpoint.org_id, endpoint.mailbox_id)
        if box is not None:
            return box
    for recipient in inbound.envelope.rcpt_tos:
        box = mailboxes.find_by_address(conn, recipient)
        if box is not None and box.org_id == endpoint.org_id:
            return box
    raise InputError("no mailbox of this endpoint receives for the recipient", "recipient", 422)
