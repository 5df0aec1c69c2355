"""PostgreSQL access: a connection pool, transactions and row factories."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Connection = psycopg.Connection


def make_pool(
    database_url: str,
    max_size: int = 8,
    min_size: int = 1,
    *,
    derived_state: bool = False,
    autocommit: bool = False,
    check: bool = True,
) -> ConnectionPool:
    """Open a pool whose connections return rows as dicts.

    The default pool is for work that answers a client (the one door, the API): each
    connection is checked when borrowed, so the pool recovers by itself after the database
    restarts instead of handing out a dead connection, and every commit is durable.

    ``derived_state=True`` is for the pipeline stages, whose results can always be computed
    again from the durably stored raw message: commits skip the fsync wait
    (``synchronous_commit=off``; a crash forgets at most the last few hundred milliseconds
    of stage progress, which the sweeper redoes) and borrowing skips the extra round trip
    (Dramatiq retries a job whose connection was dead).

    ``autocommit`` / ``check=False`` suit a caller that runs single atomic statements and
    retries once on a dead connection itself (the SMTP listener).
    """
    kwargs: dict = {"row_factory": dict_row, "autocommit": autocommit}
    if derived_state:
        kwargs["options"] = "-c synchronous_commit=off"
    pool = ConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        kwargs=kwargs,
        open=False,
        check=ConnectionPool.check_connection if check and not derived_state else None,
        reconnect_timeout=5,
    )
    pool.open(wait=False)
    return pool


def connect(database_url: str) -> Connection:
    """Open one connection (CLI commands and tests)."""
    return psycopg.connect(database_url, row_factory=dict_row)


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[Connection]:
    """Borrow a connection and run the block in one transaction (commit on success)."""
    with pool.connection() as conn, conn.transaction():
        yield conn


def ping(conn: Connection) -> None:
    """Round-trip to the server; raises ``psycopg.Error`` when it does not answer."""
    conn.execute("SELECT 1")
