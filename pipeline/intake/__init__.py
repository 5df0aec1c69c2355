"""The one door: every channel stores a message here before anything else happens.

``accept_raw`` writes the raw bytes as a content-addressed blob and one ``messages``
row in state ``received`` inside the caller's transaction. The caller answers its
client (SMTP 250, HTTP 2xx) and enqueues the first stage only after commit; the
sweeper covers a crash in between.
"""

from __future__ import annotations

from typing import Any

from pipeline.db import Connection
from pipeline.records import Envelope, Mailbox
from pipeline.stage_order import ORDER
from pipeline.store import blobs, messages

FIRST_STAGE = ORDER[0]


# The blob and the row in one statement: one round trip, atomic on any connection.
ACCEPT_SQL = f"WITH blob AS ({blobs.STORE})\n{messages.INSERT_RECEIVED}"


def accept_statement(
    raw: bytes,
    envelope: Envelope,
    channel: str,
    mailbox: Mailbox,
    *,
    folder: str | None = None,
    imap_uid: int | None = None,
    provider_message_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The one statement that stores ``raw`` (blob and row) and returns the message id,
    with its parameters: for a caller that runs it on a connection of its own kind (the
    SMTP listener's asyncio connections)."""
    return ACCEPT_SQL, {
        **blobs.store_params(raw),
        "org": mailbox.org_id,
        "mailbox": mailbox.id,
        "channel": channel,
        "folder": folder,
        "uid": imap_uid,
        "pid": provider_message_id,
        "from": envelope.mail_from,
        "to": list(envelope.rcpt_tos),
        "stage": FIRST_STAGE,
    }


def accept_raw(
    conn: Connection,
    raw: bytes,
    envelope: Envelope,
    channel: str,
    mailbox: Mailbox,
    *,
    folder: str | None = None,
    imap_uid: int | None = None,
    provider_message_id: str | None = None,
) -> int:
    """Store ``raw`` for ``mailbox``'s organization; return the new message id.

    One statement writes the blob and the row, so it is atomic even on an autocommit
    connection (the SMTP listener's: one round trip per message) and joins the caller's
    transaction otherwise.
    """
    query, params = accept_statement(
        raw,
        envelope,
        channel,
        mailbox,
        folder=folder,
        imap_uid=imap_uid,
        provider_message_id=provider_message_id,
    )
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row["id"])
