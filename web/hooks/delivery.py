"""Delivery events: Mailgun event webhooks (``000_…`` ``/mg-*``) and ``POST /mail-report``.

Mailgun events carry no credentials of ours (the seed says "no authentication"), so the
organization is found from the event's Message-ID among sent mail and the signature must
match one of that organization's Mailgun signing keys; anything else is refused with 406.

``/mail-report`` needs no authentication either (as documented): a report is about mail
Intake sent, so the original Message-ID it names (an Intake-generated id stored on
``sent_mails``) finds the organization, and a report naming no mail of ours is refused
with 422, nothing stored. Unauthenticated reports are bounded in size and rate-limited per
client address. A request with an API key (write scope) still reports for its key's
organization, as before.
"""

from __future__ import annotations

import time
from uuid import UUID

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from pipeline.db import Connection
from pipeline.errors import InputError
from pipeline.intake import reports
from pipeline.intake.providers import mailgun, mailgun_events
from pipeline.services import delivery_hooks
from pipeline.store import endpoints
from pipeline.store.deliveries import DeliveryEvent
from web import db
from web.auth import check_raw_input, credentials, enforce_address_limit, require
from web.body_limits import large_body
from web.hooks import errors, replay, storing
from web.openapi import spec


def blueprint() -> Blueprint:
    bp = errors.blueprint("hooks_delivery", __name__)
    for path in mailgun_events.PATHS:
        bp.add_url_rule(
            f"/{path}",
            endpoint=path.replace("-", "_"),
            view_func=mailgun_event,
            methods=["POST"],
            defaults={"path": path},
        )
    bp.post("/mail-report")(mail_report)
    return bp


@spec.validate(tags=["delivery events"])
def mailgun_event(path: str):
    signature, data = mailgun_events.split(storing.json_body())
    conn = db.get_conn()
    org_id = _signing_org(conn, mailgun_events.message_id_of(data), signature)
    token = str(signature["token"])
    event = mailgun_events.to_event(path, data, token)
    with replay.once("mailgun", mailgun.replay_key(str(signature["signature"]))):
        ids, jobs = _record(conn, org_id, [event])
    storing.send_jobs(jobs)
    return jsonify({"success": True, "data": {"id": ids[0], "duplicate": ids[0] is None}}), 200


def _signing_org(conn: Connection, message_id: str, signature: dict) -> UUID:
    """The organization that sent ``message_id`` and whose signing key made ``signature``."""
    timestamp, token, signed = mailgun.signature_fields(signature)
    settings = storing.settings()
    for org_id in delivery_hooks.orgs_sending(conn, message_id):
        keys = endpoints.signing_keys(conn, settings.secret_key, org_id)
        if any(mailgun.is_signed_by(k, timestamp, token, signed) for k in keys):
            mailgun.check_fresh(timestamp, time.time(), settings.webhook_max_age_seconds)
            return org_id
    raise InputError(
        "signature matches no Mailgun signing key of an organization that sent this message",
        "signature",
        406,
    )


@large_body
@spec.validate(tags=["delivery events"])
def mail_report():
    if credentials() is not None:
        return _keyed_report()
    settings = storing.settings()
    enforce_address_limit(
        "mail-report", settings.mail_report_per_minute, settings.mail_report_per_hour
    )
    events = _read_report(settings.mail_report_max_bytes)
    check_raw_input()
    return _stored(_reporting_org(db.get_conn(), events), events)


@require("write")
def _keyed_report():
    """A report posted with an API key: stored for the key's organization."""
    return _stored(g.org_id, _read_report(storing.settings().max_message_bytes))


def _read_report(limit: int) -> list[DeliveryEvent]:
    """The report's events (JSON or RFC 3464); raises ``InputError`` 413 over ``limit``
    bytes, 400/422 when it is not a report."""
    too_large = InputError(f"message is larger than {limit} bytes", "message", 413)
    if (request.content_length or 0) > limit:
        raise too_large
    request.max_content_length = limit  # a chunked body is cut off too
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large from None
    if request.is_json:
        return reports.from_json(storing.json_body())
    if not body.strip():
        raise InputError("empty body: send a delivery report or a JSON report", "body", 422)
    return reports.from_dsn(body)


def _reporting_org(conn: Connection, events: list[DeliveryEvent]) -> UUID:
    """The one organization that sent the mail every event names; raises ``InputError``
    422 (nothing stored) when the report names no mail of ours."""
    refused = InputError("the report names no mail sent by Intake", "message_id", 422)
    senders = set()
    for message_id in {e.message_id for e in events}:
        found = delivery_hooks.orgs_sending(conn, message_id) if message_id else []
        if len(found) != 1:
            raise refused
        senders.add(found[0])
    if len(senders) != 1:
        raise refused
    return senders.pop()


def _stored(org_id: UUID, events: list[DeliveryEvent]):
    ids, jobs = _record(db.get_conn(), org_id, events)
    storing.send_jobs(jobs)
    stored = [i for i in ids if i is not None]
    return jsonify(
        {"success": True, "data": {"stored": stored, "duplicates": len(ids) - len(stored)}}
    ), 200


def _record(conn: Connection, org_id: UUID, events: list[DeliveryEvent]):
    """Store ``events`` and commit; return their ids (``None`` = seen before) and jobs."""
    ids, jobs = [], []
    for event in events:
        event_id, event_jobs = delivery_hooks.record(conn, org_id, event)
        ids.append(event_id)
        jobs.extend(event_jobs)
    db.commit()
    return ids, tuple(jobs)
