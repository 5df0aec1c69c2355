"""What every inbound webhook view does once it has a message: store, commit, hand over."""

from __future__ import annotations

from flask import current_app, request

from config import Settings
from pipeline import handover
from pipeline.context import StageContext
from pipeline.errors import InputError
from pipeline.intake import accept_raw
from pipeline.intake.providers import Inbound, check_size
from pipeline.jobs import Job
from pipeline.records import Mailbox
from web import db


def settings() -> Settings:
    return current_app.config["INTAKE_SETTINGS"]


def store(inbound: Inbound, mailbox: Mailbox, channel: str) -> int:
    """Store through the one door and commit; raises ``InputError`` 413 when too large."""
    check_size(inbound.raw, settings().max_message_bytes)
    message_id = accept_raw(
        db.get_conn(),
        inbound.raw,
        inbound.envelope,
        channel,
        mailbox,
        provider_message_id=inbound.provider_message_id,
    )
    db.commit()
    return message_id


def hand_over(message_id: int) -> None:
    """The shared hand-over of a stored message (after commit; if it fails, the scheduler's
    pick-up hands the message over)."""
    handover.hand_over_or_leave(
        current_app.extensions["intake_pool"], current_app.extensions["intake_queue"], [message_id]
    )


def run_through(message_id: int) -> None:
    """Run a stored message through every stage now (after commit), as a worker would;
    raises ``PermanentError`` if it failed for good."""
    handover.run_through(
        current_app.extensions["intake_pool"],
        current_app.extensions["intake_queue"],
        message_id,
        StageContext(settings()),
    )


def send_jobs(jobs: tuple[Job, ...]) -> None:
    """Enqueue ``jobs`` (call after commit)."""
    current_app.extensions["intake_queue"].send_jobs(jobs)


def json_body() -> object:
    """The request's JSON; raises ``InputError`` 400 when it is not JSON."""
    data = request.get_json(silent=True)
    if data is None:
        raise InputError("body is not valid JSON", None, 400)
    return data
