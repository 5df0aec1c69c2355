"""SQL for ``attachments``: one row per part, bytes in content-addressed blobs."""

from __future__ import annotations

from uuid import UUID

from pipeline import blobs
from pipeline.db import Connection
from pipeline.mail.mime import Part


def add_parts(conn: Connection, org_id: UUID, message_id: int, parts: list[Part]) -> int:
    """Store ``parts`` of a message (idempotent by position); return how many exist."""
    for position, part in enumerate(parts):
        digest = blobs.put(conn, part.data)
        conn.execute(
            """INSERT INTO attachments (org_id, message_id, position, blob_sha256, filename,
                                        original_filename, mime_type, size, is_inline, content_id)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (message_id, position) DO NOTHING""",
            (
                org_id,
                message_id,
                position,
                digest,
                part.filename,
                part.filename,
                part.mime_type,
                len(part.data),
                part.is_inline,
                part.content_id,
            ),
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
