"""Contacts (by email address, case-insensitive), customers and agents."""

from __future__ import annotations

from uuid import UUID

from pipeline.db import Connection


def find_or_create(conn: Connection, org_id: UUID, email: str, name: str | None = None) -> int:
    """The id of the contact for ``email`` in ``org_id``, created if needed (race-safe)."""
    row = conn.execute(
        """INSERT INTO contacts (org_id, email, name) VALUES (%s, %s, %s)
           ON CONFLICT (org_id, lower(email)) DO UPDATE
               SET name = COALESCE(contacts.name, EXCLUDED.name)
           RETURNING id""",
        (org_id, email.strip().lower(), name or None),
    ).fetchone()
    assert row is not None
    return int(row["id"])
