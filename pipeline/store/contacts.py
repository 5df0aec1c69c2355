"""SQL for ``contacts``, the one module that writes them (by email address,
case-insensitive), and lookups of customers and agents."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline import ids
from pipeline.db import Connection
from pipeline.store import rows

FIELDS = ("name", "customer_id")

CONTACT_CTES = """
    found_contact AS (SELECT id, name FROM contacts
                      WHERE org_id = %(org)s AND lower(email) = %(email)s),
    named_contact AS (UPDATE contacts SET name = %(name)s
                      WHERE id = (SELECT id FROM found_contact WHERE name IS NULL)
                        AND %(name)s::text IS NOT NULL),
    added_contact AS (INSERT INTO contacts (org_id, email, name)
                      SELECT %(org)s, %(email)s, %(name)s
                      WHERE %(email)s::text IS NOT NULL
                        AND NOT EXISTS (SELECT 1 FROM found_contact)
                      ON CONFLICT (org_id, lower(email)) DO UPDATE
                          SET name = COALESCE(contacts.name, EXCLUDED.name)
                      RETURNING id),
    contact AS (SELECT id FROM found_contact UNION ALL SELECT id FROM added_contact)"""


def contact_params(org_id: UUID, email: str | None, name: str | None) -> dict[str, Any]:
    """The parameters of ``CONTACT_CTES``: no contact (an empty ``contact``) without email."""
    return {"org": org_id, "email": email.strip().lower() if email else None, "name": name or None}


def find_or_create(conn: Connection, org_id: UUID, email: str, name: str | None = None) -> int:
    """The id of the contact for ``email`` in ``org_id``, created if needed (race-safe).

    A known contact is only read (its name filled in if it had none): most mail comes
    from known senders, and an upsert would rewrite their row every time. A contact a
    concurrent transaction added after this statement began is found by the upsert."""
    row = conn.execute(
        f"WITH {CONTACT_CTES} SELECT id FROM contact", contact_params(org_id, email, name)
    ).fetchone()
    assert row is not None
    return int(row["id"])


def update(
    conn: Connection, org_id: UUID, contact_id: int, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply ``values`` (of ``FIELDS``) and return the row; ``None`` when the organization
    has no such contact."""
    sets, params = rows.assignments(values, FIELDS, touch=True)
    return conn.execute(
        f"UPDATE contacts SET {sets} WHERE org_id = %s AND id = %s RETURNING *",
        (*params, org_id, contact_id),
    ).fetchone()


def assign_customer(conn: Connection, org_id: UUID, contact_id: int, customer_id: int) -> None:
    """Give a contact its customer unless it already belongs to one."""
    conn.execute(
        """UPDATE contacts SET customer_id = %s, updated_at = now()
           WHERE org_id = %s AND id = %s AND customer_id IS NULL""",
        (customer_id, org_id, contact_id),
    )


def find_agent(conn: Connection, org_id: UUID, ref: str) -> dict[str, Any] | None:
    """The active agent whose external id is ``ref``, else whose id it is when numeric."""
    numeric = ids.row_id(ref)
    return conn.execute(
        """SELECT id, email, name, external_id FROM agents
           WHERE org_id = %(org)s AND is_active AND (external_id = %(ref)s OR id = %(id)s)
           ORDER BY (external_id = %(ref)s) DESC NULLS LAST LIMIT 1""",
        {"org": org_id, "ref": ref, "id": numeric},
    ).fetchone()


def agents_by_email(conn: Connection, org_id: UUID, emails: list[str]) -> list[dict[str, Any]]:
    """The organization's active agents with one of ``emails`` (case-insensitive)."""
    return conn.execute(
        """SELECT id, email, name FROM agents
           WHERE org_id = %s AND is_active AND lower(email) = ANY(%s)""",
        (org_id, [e.strip().lower() for e in emails]),
    ).fetchall()
