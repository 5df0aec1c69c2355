"""Claiming addresses for a mailbox: each one valid, normalised, and nobody else's.

Every family that creates or changes mailboxes (002 accounts, 004 mail admin, the CLI)
goes through here, so they all refuse the same way: a 422 for an invalid address, a 409
"address already in use" that never says which organization holds it. The database has
the last word (``mailbox_addresses``' primary key); the check before the write only names
the field precisely.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import psycopg
from email_validator import EmailNotValidError, validate_email

from pipeline.db import Connection
from pipeline.errors import Conflict, InputError
from pipeline.store import mailbox_addresses

IN_USE = "address already in use"


def normalise(address: str, field: str) -> str:
    """``address`` checked (syntax only, no DNS; ``.test`` allowed) and lower-cased."""
    try:
        checked = validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise InputError(f"not a valid email address: {address!r}", field, 422) from None
    return checked.normalized.lower()


def normalise_all(addresses: Iterable[str], field: str) -> list[str]:
    """Every address normalised, duplicates dropped, order kept."""
    return list(dict.fromkeys(normalise(a, field) for a in addresses))


def ensure_free(
    conn: Connection, addresses: Iterable[str], field: str, mailbox_id: int | None = None
) -> None:
    """Raise ``Conflict`` (409) if another mailbox receives for any of ``addresses``."""
    if mailbox_addresses.held_by_others(conn, addresses, mailbox_id):
        raise Conflict(IN_USE, field)


@contextmanager
def claiming(conn: Connection, field: str) -> Iterator[None]:
    """Run a mailbox write in a savepoint; a second claim of an address becomes a 409
    (a concurrent request that passed ``ensure_free`` at the same time ends here)."""
    try:
        with conn.transaction():
            yield
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.constraint_name not in mailbox_addresses.CONSTRAINTS:
            raise
        raise Conflict(IN_USE, field) from None
