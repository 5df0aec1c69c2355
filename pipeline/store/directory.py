"""Contacts, customers and agents: the people tickets are about and the people who act."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store.emails import like_pattern


def _page(
    conn: Connection, sql: str, params: dict[str, Any], order: str, page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    rows = conn.execute(
        f"{sql} ORDER BY {order} LIMIT %(limit)s OFFSET %(offset)s",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM ({sql}) q", params).fetchone()
    return rows, total["n"]


def list_contacts(
    conn: Connection,
    org_id: UUID,
    page: int,
    per_page: int,
    search: str | None,
    customer_id: int | None,
) -> tuple[list[dict[str, Any]], int]:
    sql = """SELECT c.*, (SELECT count(*) FROM tickets t WHERE t.contact_id = c.id) AS ticket_count
             FROM contacts c WHERE c.org_id = %(org)s
               AND (%(q)s::text IS NULL OR c.email ILIKE %(q)s OR c.name ILIKE %(q)s)
               AND (%(customer)s::bigint IS NULL OR c.customer_id = %(customer)s::bigint)"""
    params = {"org": org_id, "q": search and like_pattern(search), "customer": customer_id}
    return _page(conn, sql, params, "lower(email), id", page, per_page)


def list_customers(
    conn: Connection, org_id: UUID, page: int, per_page: int, search: str | None
) -> tuple[list[dict[str, Any]], int]:
    sql = """SELECT * FROM customers WHERE org_id = %(org)s
               AND (%(q)s::text IS NULL OR name ILIKE %(q)s OR email ILIKE %(q)s
                    OR external_ref ILIKE %(q)s)"""
    params = {"org": org_id, "q": search and like_pattern(search)}
    return _page(conn, sql, params, "lower(name), id", page, per_page)


def list_agents(
    conn: Connection, org_id: UUID, page: int, per_page: int, active: bool | None
) -> tuple[list[dict[str, Any]], int]:
    sql = """SELECT * FROM agents WHERE org_id = %(org)s
               AND (%(active)s::boolean IS NULL OR is_active = %(active)s::boolean)"""
    return _page(conn, sql, {"org": org_id, "active": active}, "lower(name), id", page, per_page)


def unknown_agents(conn: Connection, org_id: UUID, agent_ids: list[int]) -> list[int]:
    """Those of ``agent_ids`` that are not active agents of the organization."""
    rows = conn.execute(
        "SELECT id FROM agents WHERE org_id = %s AND id = ANY(%s) AND is_active",
        (org_id, agent_ids),
    ).fetchall()
    known = {r["id"] for r in rows}
    return [a for a in agent_ids if a not in known]


def agent_conflict(
    conn: Connection, org_id: UUID, values: dict[str, Any], except_id: int | None = None
) -> str | None:
    """The field (``email`` or ``external_id``) another agent of the org already uses."""
    for name, clause in (
        ("email", "lower(email) = lower(%s)"),
        ("external_id", "external_id = %s"),
    ):
        if values.get(name) is None:
            continue
        row = conn.execute(
            f"""SELECT 1 FROM agents WHERE org_id = %s AND {clause}
                AND id IS DISTINCT FROM %s""",
            (org_id, values[name], except_id),
        ).fetchone()
        if row:
            return name
    return None
