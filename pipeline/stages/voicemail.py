"""voicemail: mail from a telephony system becomes a voicemail (caller, line, audio).

The stage only detects and records; the audio is transcoded by its own actor on the
``media`` queue (``pipeline.voicemail_audio``), which also raises ``voicemail.received``.
The mail itself goes on through the pipeline either way: ticket policy decides.
"""

from __future__ import annotations

from typing import Any

from pipeline import api_orders, phones
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.mail import voicemail_patterns
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import voicemails
from pipeline.voicemail_audio import raise_received, transcode_job

NO_AUDIO = "the mail has no audio attachment"


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    if (bypass := api_orders.bypassed(msg)) is not None:
        return bypass
    profile = ctx.org(conn, msg)
    found = voicemail_patterns.detect(
        profile.voicemail_patterns, msg.from_address, msg.subject, msg.body_text
    )
    if found is None:
        return Continue({"detected": False})
    region = found.region or profile.phone_region or ctx.settings.phone_region
    attachment_id = voicemails.audio_attachment(conn, msg.org_id, msg.id)
    voicemail_id = voicemails.create(conn, msg, numbers_of(found, region), attachment_id)
    evidence = {"detected": True, "pattern": found.pattern}
    if voicemail_id is None:  # an earlier run created it and handed it on
        return Continue({**evidence, "voicemail_id": voicemails.id_for_message(conn, msg.id)})
    evidence["voicemail_id"] = voicemail_id
    if attachment_id is None:
        voicemails.record_audio_error(conn, voicemail_id, NO_AUDIO)
        return Continue(evidence, jobs=raise_received(conn, msg.org_id, voicemail_id))
    return Continue(evidence, jobs=(transcode_job(voicemail_id),))


def numbers_of(found: voicemail_patterns.Detection, region: str) -> dict[str, Any]:
    """The caller in E.164 and national form, and the receiving line's digits."""
    values: dict[str, Any] = {}
    if found.caller:
        caller = phones.normalise(found.caller, region)
        values.update(caller_number=caller.e164, caller_formatted=caller.formatted)
    if found.receiver:
        values["receiver_line"] = phones.clean(found.receiver)
    return values
