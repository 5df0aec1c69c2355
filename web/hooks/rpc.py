"""``001_…`` ``POST /api/rpc/tickets/email/inbound``: generic inbound JSON, processed at once.

Public by the seed: the caller is trusted only as far as ``organizationId`` names an
organization and ``to`` is one of that organization's mailbox addresses, plus the
organization's secret when it set one (``web/hooks/rpc_gate.py``: rate limits, secret, one
uniform refusal). The message is stored through the one door, committed, then run through
the pipeline within the request so the answer can name the ticket.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from pipeline.errors import InputError, PermanentError
from pipeline.intake.providers import generic
from pipeline.intake.providers.generic import InboundEmail
from pipeline.store import message_queries
from web import db
from web.hooks import errors, rpc_gate, storing
from web.openapi import spec


def blueprint() -> Blueprint:
    bp = errors.blueprint("rpc_inbound", __name__, url_prefix="/api/rpc")
    bp.before_request(rpc_gate.limit_by_address)
    bp.before_request(_require_json)
    bp.post("/tickets/email/inbound")(inbound_email)
    return bp


def _require_json() -> None:
    if request.get_json(silent=True) is None:
        raise InputError("body is not valid JSON", None, 400)


@spec.validate(json=InboundEmail, tags=["inbound"])
def inbound_email(json: InboundEmail):
    mailbox = rpc_gate.admit(json)
    config = storing.settings()
    files = generic.fetch_attachments(json, config.max_message_bytes, config.fetch_allow_private)
    message_id = storing.store(generic.to_inbound(json, files), mailbox, "webhook:generic")
    try:
        storing.run_through(message_id)
    except PermanentError as exc:
        raise InputError(f"message {message_id} stored but could not be processed: {exc}") from None
    return jsonify({"success": True, **outcome(message_id)}), 200


def outcome(message_id: int) -> dict[str, str | None]:
    """``ticketId``/``messageId`` as strings; both null when the mail was discarded."""
    row = message_queries.ticket_outcome(db.get_conn(), message_id)
    if row is None or row["state"] == "discarded":
        return {"ticketId": None, "messageId": None}
    ticket = row["ticket_id"]
    return {"ticketId": str(ticket) if ticket else None, "messageId": str(message_id)}
