"""Reading and changing send configurations (SMTP relays) for the configs API.

Creating one and picking one for a send live with the sender (``store.outbound``). Reads
here never select the encrypted password, only whether there is one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection

COLUMNS = """id, name, host, port, tls_mode, username, password_enc IS NOT NULL AS has_password,
    from_email, from_name, is_default, created_at, updated_at"""
UPDATABLE = (
    "name",
    "host",
    "port",
    "tls_mode",
    "username",
    "password_enc",
    "from_email",
    "from_name",
    "is_default",
)


def list_configs(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {COLUMNS} FROM send_configs WHERE org_id = %s ORDER BY is_default DESC, id",
        (org_id,),
    ).fetchall()


def get_config(conn: Connection, org_id: UUID, config_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {COLUMNS} FROM send_configs WHERE org_id = %s AND id = %s", (org_id, config_id)
    ).fetchone()


def update_config(conn: Connection, org_id: UUID, config_id: int, values: dict[str, Any]) -> bool:
    """Apply ``values`` (keys from ``UPDATABLE``); becoming the default takes the flag."""
    if values.get("is_default"):
        conn.execute(
            "UPDATE send_configs SET is_default = false WHERE org_id = %s AND id <> %s",
            (org_id, config_id),
        )
    changes = {k: v for k, v in values.items() if k in UPDATABLE}
    sets = ", ".join([*(f"{name} = %({name})s" for name in changes), "updated_at = now()"])
    cur = conn.execute(
        f"UPDATE send_configs SET {sets} WHERE org_id = %(_org)s AND id = %(_id)s",
        {**changes, "_org": org_id, "_id": config_id},
    )
    return cur.rowcount == 1


def delete_config(conn: Connection, org_id: UUID, config_id: int) -> bool:
    cur = conn.execute(
        "DELETE FROM send_configs WHERE org_id = %s AND id = %s", (org_id, config_id)
    )
    return cur.rowcount == 1
