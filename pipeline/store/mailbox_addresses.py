"""The one set of addresses mail is routed by: every address and alias of every mailbox.

Rows are written by a trigger on ``mailboxes`` (migration 0600), never here; the table's
primary key turns an address claimed twice, by any two mailboxes of any organizations,
into a ``UniqueViolation``. Keys are lower-case without a plus tag
(``mailbox_address_key``), the form recipients are looked up by.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.db import Connection

# The constraints that refuse a second claim of an address.
CONSTRAINTS = frozenset({"mailbox_addresses_pkey", "mailboxes_address"})


def mailbox_id_for(conn: Connection, address: str) -> int | None:
    """The mailbox receiving for ``address`` (or its plus-addressed form), if any."""
    row = conn.execute(
        "SELECT mailbox_id FROM mailbox_addresses WHERE address = mailbox_address_key(%s)",
        (address,),
    ).fetchone()
    return row["mailbox_id"] if row else None


def held_by_others(
    conn: Connection, addresses: Iterable[str], mailbox_id: int | None = None
) -> list[str]:
    """Those of ``addresses`` that a mailbox other than ``mailbox_id`` receives for."""
    wanted = list(addresses)
    if not wanted:
        return []
    rows = conn.execute(
        """SELECT given FROM unnest(%s::text[]) AS given
           JOIN mailbox_addresses a ON a.address = mailbox_address_key(given)
           WHERE a.mailbox_id IS DISTINCT FROM %s""",
        (wanted, mailbox_id),
    ).fetchall()
    return [r["given"] for r in rows]
