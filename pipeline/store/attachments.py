"""SQL for ``attachments``: one row per part, bytes in content-addressed blobs."""

from __future__ import annotations

from uuid import UUID

from pipeline import blobs
from pipeline.db import Connection
from pipeline.mail.mime import Part


def add_parts(conn: Connection, org_id: UUID, message_id: int, parts: list[Part]) -> int:
    """Store ``parts`` of a message (idempotent by position); return how many exist.

    Each part's bytes and its row go in one statement."""
    for position, part in enumerate(parts):
        conn.execute(
            """WITH blob AS (
                   INSERT INTO blobs (sha256, size, data) VALUES (%(sha)s, %(size)s, %(data)b)
                   ON CONFLICT DO NOTHING)
               INSERT INTO attachments (org_id, message_id, position, blob_sha256, filename,
                                        original_filename, mime_type, size, is_inline,
                                        content_id)
               VALUES (%(org)s, %(message)s, %(position)s, %(sha)s, %(name)s, %(name)s,
                       %(type)s, %(size)s, %(inline)s, %(cid)s)
               ON CONFLICT (message_id, position) DO NOTHING""",
            {
                "sha": blobs.sha256_hex(part.data),
                "size": len(part.data),
                "data": part.data,
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
