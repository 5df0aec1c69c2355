"""SQL for ``delivery_events``, the one module that writes them: delivered, opened,
bounced… linked to the sent mail they concern."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection
from pipeline.store import outbound

EVENTS = (
    "delivered",
    "opened",
    "clicked",
    "complained",
    "failed_permanent",
    "failed_temporary",
    "report",
)


@dataclass(frozen=True)
class DeliveryEvent:
    event: str
    provider: str
    provider_event_id: str
    message_id: str | None = None
    recipient: str | None = None
    status_code: str | None = None
    diagnostic: str | None = None
    occurred_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    source_message_id: int | None = None


def record(conn: Connection, org_id: UUID, event: DeliveryEvent) -> int | None:
    """Store ``event`` once (by provider event id); ``None`` if it was already stored.

    Links it to the sent mail with the same Message-ID in the organization, if any.
    """
    row = conn.execute(
        """INSERT INTO delivery_events (org_id, sent_mail_id, source_message_id, message_id, event,
                                        provider, provider_event_id, recipient, status_code,
                                        diagnostic, payload, occurred_at)
           VALUES (%(org)s,
                   (SELECT id FROM sent_mails WHERE org_id = %(org)s AND message_id = %(mid)s
                    LIMIT 1),
                   %(src)s, %(mid)s, %(event)s, %(provider)s, %(peid)s, %(rcpt)s, %(code)s,
                   %(diag)s, %(payload)s, COALESCE(%(at)s, now()))
           ON CONFLICT (org_id, provider, provider_event_id) DO NOTHING RETURNING id, sent_mail_id""",
        {
            "org": org_id,
            "mid": event.message_id,
            "src": event.source_message_id,
            "event": event.event,
            "provider": event.provider,
            "peid": event.provider_event_id,
            "rcpt": event.recipient,
            "code": event.status_code,
            "diag": event.diagnostic,
            "payload": Jsonb(event.payload),
            "at": event.occurred_at,
        },
    ).fetchone()
    if row is None:
        return None
    if row["sent_mail_id"] is not None:
        outbound.record_last_event(conn, row["sent_mail_id"], event.event, event.occurred_at)
    return int(row["id"])


def sent_mail_of(conn: Connection, event_id: int) -> int | None:
    """The sent mail delivery event ``event_id`` was linked to, if any."""
    row = conn.execute(
        "SELECT sent_mail_id FROM delivery_events WHERE id = %s", (event_id,)
    ).fetchone()
    return row["sent_mail_id"] if row else None
