"""parse: fill headers, addresses, bodies and attachments from the raw blob.

A message of more MIME parts than ``INTAKE_MAX_MIME_PARTS`` is read up to the cap: no more
attachment rows, ``analysis.parse.mime_parts_capped`` says so, the raw stays whole and the
mail goes on to its ticket. Mail that cannot be read at all is kept raw and fails permanently with the reason
(``intake replay`` can retry it after a fix); it never holds up other messages.
"""

from __future__ import annotations

import psycopg

from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.errors import PermanentError
from pipeline.mail import mime
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import attachments

NEEDS_RAW = True  # the run claims the message with its raw bytes


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    try:
        parsed = mime.parse(ctx.raw(conn, msg), ctx.settings.max_mime_parts)
    except mime.UnparseableMail as exc:
        raise PermanentError(f"unparseable mail: {exc}") from exc
    try:
        count = attachments.add_parts(conn, msg.org_id, msg.id, parsed.parts)
    except psycopg.DataError as exc:  # a value PostgreSQL refuses will not improve on retry
        raise PermanentError(f"attachments not storable: {exc}") from exc
    return Continue(evidence_of(parsed), changes=fields_of(parsed, count))


def evidence_of(parsed: mime.ParsedMail) -> dict:
    """What the parse found worth recording: charsets used, defects, repairs."""
    return {"charsets": parsed.charsets_used, "defects": parsed.defects, **parsed.notes}


def fields_of(parsed: mime.ParsedMail, attachment_count: int) -> dict:
    """The ``messages`` columns a parse fills in."""
    return {
        "headers": parsed.headers,
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references,
        "from_address": parsed.from_address,
        "from_name": parsed.from_name,
        "to_addresses": parsed.to_addresses,
        "cc_addresses": parsed.cc_addresses,
        "reply_to": parsed.reply_to,
        "subject": parsed.subject,
        "sent_at": parsed.sent_at,
        "body_text": parsed.body_text,
        "body_html": parsed.body_html,
        "new_text": parsed.new_text,
        "has_attachments": attachment_count > 0,
        "attachment_count": attachment_count,
    }
