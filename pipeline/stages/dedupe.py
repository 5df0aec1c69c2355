"""dedupe: the same Message-ID in the same organization (lacking one, the same raw bytes)
is a duplicate: kept, marked, and it goes no further.

The database decides (the primary key of ``message_keys``), so a resent mail, the
same mail fetched by SMTP and by IMAP, or two workers racing on copies all yield one.
"""

from __future__ import annotations

from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.mail.fingerprints import dedupe_key
from pipeline.outcomes import Continue, Stop
from pipeline.records import Message
from pipeline.store import duplicates


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue | Stop:
    raw = None if msg.message_id else ctx.raw(conn, msg)
    key, basis = dedupe_key(msg.message_id, raw)
    original = duplicates.claim_key(conn, msg.org_id, msg.id, key)
    if original is None or original == msg.id:
        return Continue({"key": key, "basis": basis}, changes={"dedupe_key": key})
    return Stop(
        "duplicate",
        f"same {basis.replace('_', ' ')} as message {original}",
        {"duplicate_of": original, "key": key, "basis": basis},
        changes={"duplicate_of": original},
    )
