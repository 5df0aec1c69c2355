"""SQL for send configurations (``send_configs``): the SMTP relays an organization sends
through.

The sender picks one with its encrypted password (``find_config``); the configs API's reads
(``list_configs``, ``get_config``) never select the password, only whether there is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from pipeline.db import Connection
from pipeline.records import columns

TLS_MODES = ("ssl", "starttls", "none")


@dataclass(frozen=True)
class SendConfig:
    """An SMTP relay an organization sends through (password still encrypted)."""

    id: int
    org_id: UUID
    name: str
    host: str
    port: int
    tls_mode: str
    username: str | None
    password_enc: bytes | None
    from_email: str
    from_name: str | None
    is_default: bool


def create_config(
    conn: Connection,
    org_id: UUID,
    *,
    name: str,
    host: str,
    port: int,
    tls_mode: str,
    from_email: str,
    from_name: str | None = None,
    username: str | None = None,
    password_enc: bytes | None = None,
    is_default: bool = False,
) -> SendConfig:
    """Store a relay; making it the default takes the flag from the previous default."""
    if is_default:
        conn.execute(
            "UPDATE send_configs SET is_default = false WHERE org_id = %s AND is_default",
            (org_id,),
        )
    with conn.cursor(row_factory=class_row(SendConfig)) as cur:
        row = cur.execute(
            f"""INSERT INTO send_configs (org_id, name, host, port, tls_mode, username,
                                          password_enc, from_email, from_name, is_default)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                RETURNING {columns(SendConfig)}""",
            (
                org_id,
                name,
                host,
                port,
                tls_mode,
                username,
                password_enc,
                from_email,
                from_name,
                is_default,
            ),
        ).fetchone()
    assert row is not None
    return row


def find_config(conn: Connection, org_id: UUID, config_id: int | None) -> SendConfig | None:
    """Relay ``config_id`` of ``org_id``; without an id, the default (else the oldest)."""
    with conn.cursor(row_factory=class_row(SendConfig)) as cur:
        if config_id is not None:
            return cur.execute(
                f"SELECT {columns(SendConfig)} FROM send_configs WHERE org_id = %s AND id = %s",
                (org_id, config_id),
            ).fetchone()
        return cur.execute(
            f"""SELECT {columns(SendConfig)} FROM send_configs WHERE org_id = %s
                ORDER BY is_default DESC, id LIMIT 1""",
            (org_id,),
        ).fetchone()


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
