"""SQL for an organization's own voicemail formats (``voicemail_patterns``). The stages read
the active ones with the rest of the organization (``store.org_profile``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

PATTERN_COLUMNS = (
    "id, name, sender_regex, subject_regex, body_regex, position, is_active, created_at"
)


def list_patterns(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"""SELECT {PATTERN_COLUMNS} FROM voicemail_patterns WHERE org_id = %s
            ORDER BY position, id""",
        (org_id,),
    ).fetchall()


def create_pattern(conn: Connection, org_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    return conn.execute(
        f"""INSERT INTO voicemail_patterns (org_id, name, sender_regex, subject_regex,
                                            body_regex, position, is_active)
            VALUES (%(org)s, %(name)s, %(sender_regex)s, %(subject_regex)s, %(body_regex)s,
                    %(position)s, %(is_active)s)
            RETURNING {PATTERN_COLUMNS}""",
        {**values, "org": org_id},
    ).fetchone()


def delete_pattern(conn: Connection, org_id: UUID, pattern_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM voicemail_patterns WHERE org_id = %s AND id = %s", (org_id, pattern_id)
    )
    return cur.rowcount == 1
