"""The request edge of the public ``001_…`` RPC: rate limits, the optional secret, and one
uniform refusal.

Every call counts against its client address (``INTAKE_RPC_ADDRESS_PER_MINUTE``) before
its body is read; an accepted call also counts against its organization
(``INTAKE_RPC_ORG_PER_MINUTE``), so refused guesses cannot use up an organization's budget.
The secret comes in the ``X-Intake-Rpc-Secret`` header or as the basic-auth password (any
user name), which providers that forward mail to a URL can send.
"""

from __future__ import annotations

from flask import current_app, request

from pipeline.errors import InputError
from pipeline.intake.providers import generic
from pipeline.intake.providers.generic import InboundEmail
from pipeline.records import Mailbox
from pipeline.store import rpc_access
from web import db
from web.auth import enforce
from web.hooks import storing

SECRET_HEADER = "X-Intake-Rpc-Secret"
REFUSED = "this organization accepts no such call for that address"


def limit_by_address() -> None:
    """Count the call against its client address; 429 past the limit."""
    limiter = current_app.extensions["intake_ratelimit"]
    per_minute = storing.settings().rpc_address_per_minute
    enforce(limiter.hit_per_minute(f"rpc-address:{request.remote_addr}", per_minute))


def admit(payload: InboundEmail) -> Mailbox:
    """The mailbox the call delivers to; one 403 for an unknown organization, an address
    not its own and a missing or wrong secret alike."""
    address = generic.address(payload.to, "to")
    box = rpc_access.accepted_mailbox(
        db.get_conn(), payload.organizationId, address, given_secret()
    )
    if box is None:
        raise InputError(REFUSED, None, 403)
    limiter = current_app.extensions["intake_ratelimit"]
    per_minute = storing.settings().rpc_org_per_minute
    enforce(limiter.hit_per_minute(f"rpc-org:{box.org_id}", per_minute))
    return box


def given_secret() -> str | None:
    header = request.headers.get(SECRET_HEADER)
    if header:
        return header
    auth = request.authorization
    return auth.password if auth is not None and auth.type == "basic" else None
