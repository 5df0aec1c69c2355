"""Delivery events: Mailgun event webhooks (``000_…`` ``/mg-*``) and ``POST /mail-report``.

Mailgun events carry no credentials of ours (the seed says "no authentication"), so the
organization is found from the event's Message-ID among sent mail and the signature must
match one of that organization's Mailgun signing keys; anything else is refused with 406.
``/mail-report`` must map to an organization, so it takes a Bearer API key (write scope).
"""

from __future__ import annotations

import time
from uuid import UUID

from flask import g, jsonify, request

from pipeline import delivery_events
from pipeline.db import Connection
from pipeline.errors import InputError
from pipeline.intake import reports
from pipeline.intake.providers import check_size, mailgun, mailgun_events
from pipeline.store import endpoints
from pipeline.store.deliveries import DeliveryEvent
from web import db
from web.auth import require
from web.hooks import errors, replay, storing
from web.openapi import spec

bp = errors.blueprint("hooks_delivery", __name__)


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


for _path in mailgun_events.PATHS:
    bp.add_url_rule(
        f"/{_path}",
        endpoint=_path.replace("-", "_"),
        view_func=mailgun_event,
        methods=["POST"],
        defaults={"path": _path},
    )


def _signing_org(conn: Connection, message_id: str, signature: dict) -> UUID:
    """The organization that sent ``message_id`` and whose signing key made ``signature``."""
    timestamp, token, signed = mailgun.signature_fields(signature)
    settings = storing.settings()
    for org_id in delivery_events.orgs_sending(conn, message_id):
        keys = endpoints.signing_keys(conn, settings.secret_key, org_id)
        if any(mailgun.is_signed_by(k, timestamp, token, signed) for k in keys):
            mailgun.check_fresh(timestamp, time.time(), settings.webhook_max_age_seconds)
            return org_id
    raise InputError(
        "signature matches no Mailgun signing key of an organization that sent this message",
        "signature",
        406,
    )


@bp.post("/mail-report")
@require("write")
@spec.validate(tags=["delivery events"])
def mail_report():
    if request.is_json:
        events = reports.from_json(storing.json_body())
    else:
        body = request.get_data()
        if not body.strip():
            raise InputError("empty body: send a delivery report or a JSON report", "body", 422)
        check_size(body, storing.settings().max_message_bytes)
        events = reports.from_dsn(body)
    ids, jobs = _record(db.get_conn(), g.org_id, events)
    storing.send_jobs(jobs)
    stored = [i for i in ids if i is not None]
    return jsonify(
        {"success": True, "data": {"stored": stored, "duplicates": len(ids) - len(stored)}}
    ), 200


def _record(conn: Connection, org_id: UUID, events: list[DeliveryEvent]):
    """Store ``events`` and commit; return their ids (``None`` = seen before) and jobs."""
    ids, jobs = [], []
    for event in events:
        event_id, event_jobs = delivery_events.record(conn, org_id, event)
        ids.append(event_id)
        jobs.extend(event_jobs)
    db.commit()
    return ids, tuple(jobs)
