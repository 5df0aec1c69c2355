"""SQL for ``organizations``, the one module that writes them: create one, its settings,
its RPC secret (issued by ``store.rpc_access``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pipeline.db import Connection
from pipeline.store import tickets

SETTINGS = (
    "unmatched_policy",
    "closed_reply_policy",
    "append_open_ticket",
    "auto_reply_enabled",
    "auto_reply_subject",
    "auto_reply_body",
    "auto_reply_window_seconds",
    "rpc_auto_reply_enabled",
    "flood_limit",
    "flood_window_seconds",
)


def create(conn: Connection, name: str) -> UUID:
    """A new organization, with the sequence that numbers its tickets; its id."""
    row = conn.execute(
        "INSERT INTO organizations (name) VALUES (%s) RETURNING id", (name,)
    ).fetchone()
    assert row is not None
    tickets.create_number_sequence(conn, row["id"])
    return row["id"]


def get(conn: Connection, org_id: UUID) -> dict[str, Any]:
    return conn.execute("SELECT * FROM organizations WHERE id = %s", (org_id,)).fetchone()


def update(conn: Connection, org_id: UUID, values: dict[str, Any]) -> None:
    """Set ``name`` and the ``SETTINGS`` present in ``values``."""
    names = [n for n in ("name", *SETTINGS) if n in values]
    if names:
        conn.execute(
            f"""UPDATE organizations SET {", ".join(f"{n} = %s" for n in names)},
                       updated_at = now() WHERE id = %s""",
            (*(values[n] for n in names), org_id),
        )


def set_rpc_secret_hash(conn: Connection, org_id: UUID, secret_hash: str | None) -> None:
    """Store the hash of the organization's RPC secret; ``None`` makes its RPC public."""
    conn.execute(
        "UPDATE organizations SET rpc_secret_hash = %s, updated_at = now() WHERE id = %s",
        (secret_hash, org_id),
    )
