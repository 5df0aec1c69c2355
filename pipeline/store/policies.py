"""An organization's ticket policies (SPEC §2 ``organizations``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from pipeline.db import Connection


@dataclass(frozen=True)
class TicketPolicy:
    unmatched_policy: str = "create_ticket"  # create_ticket | hold | discard
    closed_reply_policy: str = "reopen"  # reopen | new_ticket | hold
    append_open_ticket: bool = True


def ticket_policy(conn: Connection, org_id: UUID) -> TicketPolicy:
    row = conn.execute(
        """SELECT unmatched_policy, closed_reply_policy, append_open_ticket
           FROM organizations WHERE id = %s""",
        (org_id,),
    ).fetchone()
    return TicketPolicy(**row) if row else TicketPolicy()
