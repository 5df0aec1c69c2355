"""The voicemail list query: every ``GET /api/voicemails`` filter and sort, one organization."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store.voicemails import COLUMNS, FROM

SORTS = {
    "received_at": "v.received_at",
    "caller_number": "v.caller_number",
    "duration_seconds": "v.duration_seconds",
}


def list_page(
    conn: Connection, org_id: UUID, filters: dict[str, Any], page: int, per_page: int
) -> tuple[list[dict[str, Any]], int]:
    """One page of voicemails matching ``filters`` (the list endpoint's), and the total.

    ``sort`` is one of ``SORTS`` (ties broken by id), ``order`` ``asc`` or ``desc``;
    ``since``/``until`` are whole days, both included.
    """
    where, params = _where(org_id, filters)
    direction = "ASC" if filters.get("order") == "asc" else "DESC"
    sort = SORTS[filters.get("sort") or "received_at"]
    rows = conn.execute(
        f"""SELECT {COLUMNS} FROM {FROM} WHERE {where}
            ORDER BY {sort} {direction} NULLS LAST, v.id {direction}
            LIMIT %(limit)s OFFSET %(offset)s""",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM {FROM} WHERE {where}", params).fetchone()
    return rows, total["n"]


def _where(org_id: UUID, filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    clauses, params = ["v.org_id = %(org)s"], {"org": org_id}
    if filters.get("account_id") is not None:
        clauses.append("v.mailbox_id = %(account)s")
        params["account"] = filters["account_id"]
    if filters.get("caller"):
        # "0606 47", "+33606" and "06 06 47" all find +33606473979 / "06 06 47 39 79".
        clauses.append(
            "(v.caller_number ILIKE %(caller)s OR v.caller_formatted ILIKE %(caller)s"
            " OR (%(caller_digits)s <> '' AND (v.caller_number LIKE %(caller_digits)s"
            " OR regexp_replace(v.caller_formatted, '\\D', '', 'g') LIKE %(caller_digits)s)))"
        )
        params["caller"] = f"%{_escape_like(filters['caller'])}%"
        digits = "".join(c for c in filters["caller"] if c.isdigit())
        params["caller_digits"] = f"%{digits}%" if digits else ""
    if filters.get("receiver"):
        clauses.append("v.receiver_line ILIKE %(receiver)s")
        params["receiver"] = f"%{_escape_like(filters['receiver'])}%"
    if filters.get("is_listened") is not None:
        clauses.append("v.is_listened = %(listened)s")
        params["listened"] = filters["is_listened"]
    if filters.get("since") is not None:
        clauses.append("v.received_at >= %(since)s::date::timestamp AT TIME ZONE 'UTC'")
        params["since"] = filters["since"]
    if filters.get("until") is not None:
        clauses.append("v.received_at < (%(until)s::date + 1)::timestamp AT TIME ZONE 'UTC'")
        params["until"] = filters["until"]
    return " AND ".join(clauses), params


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
