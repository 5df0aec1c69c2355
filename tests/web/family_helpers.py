"""Arrangements shared by the tests of the ``000``/``003``/``004`` families."""

from __future__ import annotations

from uuid import UUID

from pipeline.context import StageContext
from pipeline.records import Mailbox
from pipeline.runner import run_stage
from pipeline.stage_order import ORDER
from tests.helpers import accept


def bearer(token: str) -> dict[str, str]:
    """The headers every example of the seeds sends."""
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def next_message_id(conn, value: int) -> None:
    """Make the next stored message get id ``value`` (the seeds' examples name mail 87)."""
    conn.execute("SELECT setval('messages_id_seq', %s, false)", (value,))


def held_mail(pool, settings, raw: bytes, mailbox: Mailbox) -> int:
    """Store and parse ``raw``, then leave it held as the ticket stage's ``hold`` policy does."""
    message_id = accept(pool, raw, mailbox)
    run_stage(pool, ORDER[0], message_id, StageContext(settings))
    with pool.connection() as conn:
        conn.execute(
            """UPDATE messages SET state = 'held', stage = NULL,
                      analysis = analysis || '{"ticket": {"outcome": "held"}}'
               WHERE id = %s""",
            (message_id,),
        )
    return message_id


def make_customer(conn, org_id: UUID, customer_id: int | None = None, name: str = "Acme SA") -> int:
    if customer_id is None:
        row = conn.execute(
            "INSERT INTO customers (org_id, name) VALUES (%s, %s) RETURNING id", (org_id, name)
        ).fetchone()
    else:
        row = conn.execute(
            "INSERT INTO customers (id, org_id, name) VALUES (%s, %s, %s) RETURNING id",
            (customer_id, org_id, name),
        ).fetchone()
    return row["id"]


def make_agent(
    conn, org_id: UUID, email: str, name: str = "Agent", external_id: str | None = None
) -> int:
    return conn.execute(
        """INSERT INTO agents (org_id, email, name, external_id) VALUES (%s, %s, %s, %s)
           RETURNING id""",
        (org_id, email, name, external_id),
    ).fetchone()["id"]


def replay(client, method: str, path: str, token: str, headers: dict | None = None, **kwargs):
    """Send a seed example's request: its Bearer token and Accept header, plus its own."""
    return client.open(path, method=method, headers={**bearer(token), **(headers or {})}, **kwargs)
