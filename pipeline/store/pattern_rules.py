"""SQL for ``pattern_rules``: an organization's own external ticket-id formats."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection


def active(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT key, name, format FROM pattern_rules
           WHERE org_id = %s AND is_active ORDER BY id""",
        (org_id,),
    ).fetchall()
