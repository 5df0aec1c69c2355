"""SQL for ``attachments``, the one module that writes them: one row per part, bytes in
content-addressed blobs."""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection
from pipeline.mail.mime import Part
from pipeline.store import blobs

# A part's row, its bytes stored in the same statement; idempotent by position.
ADD_PART_SQL = f"""WITH blob AS ({blobs.STORE})
INSERT INTO attachments (org_id, message_id, position, blob_sha256, filename,
                         original_filename, mime_type, size, is_inline, content_id)
VALUES (%(org)s, %(message)s, %(position)s, %(sha)s, %(name)s, %(name)s,
        %(type)s, %(size)s, %(inline)s, %(cid)s)
ON CONFLICT (message_id, position) DO NOTHING"""

# The CTE ``moved``: mail %(message)s's attachments (if %(has_attachments)s) follow it
# onto the ticket message in CTE ``linked (id, ticket_id)`` (``store.ticket_messages``).
MOVE_CTE = """
    moved AS (
        UPDATE attachments a SET ticket_id = linked.ticket_id, ticket_message_id = linked.id
        FROM linked WHERE %(has_attachments)s AND a.message_id = %(message)s)"""


def add_parts(conn: Connection, org_id: UUID, message_id: int, parts: list[Part]) -> int:
    """Store ``parts`` of a message (idempotent by position); return how many exist.

    Each part's bytes and its row go in one statement."""
    for position, part in enumerate(parts):
        conn.execute(
            ADD_PART_SQL,
            {
                **blobs.store_params(part.data),
                "org": org_id,
                "message": message_id,
                "position": position,
                "name": part.filename,
                "type": part.mime_type,
                "inline": part.is_inline,
                "cid": part.content_id,
            },
        )
    return len(parts)


def move_to_ticket(
    conn: Connection, message_id: int, ticket_id: int, ticket_message_id: int
) -> None:
    """Attach a message's attachments to the ticket message made from it."""
    conn.execute(
        "UPDATE attachments SET ticket_id = %s, ticket_message_id = %s WHERE message_id = %s",
        (ticket_id, ticket_message_id, message_id),
    )


def keep_ticket_attachments(conn: Connection, org_id: UUID, message_id: int) -> None:
    """Detach the attachments a ticket uses, so deleting their mail does not cascade to them."""
    conn.execute(
        """UPDATE attachments SET message_id = NULL
           WHERE org_id = %s AND message_id = %s AND ticket_id IS NOT NULL""",
        (org_id, message_id),
    )
