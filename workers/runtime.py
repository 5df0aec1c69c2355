"""Per-process resources, created on first use: settings and the database pool."""

from __future__ import annotations

from functools import cache

from psycopg_pool import ConnectionPool

from config import Settings, load_settings
from pipeline import stages
from pipeline.context import StageContext
from pipeline.db import make_pool
from pipeline.stage_order import ORDER


@cache
def settings() -> Settings:
    return load_settings()


@cache
def pool() -> ConnectionPool:
    """Durable, checked connections: the one door (SMTP, IMAP), scheduler, CLI."""
    current = settings()
    return make_pool(current.database_url, max_size=current.db_pool_size)


@cache
def smtp_pool() -> ConnectionPool:
    """Autocommit connections for the listener's stores and recipient lookups, one thread
    each (stores wait on commits together: PostgreSQL flushes them at once). Not checked
    when borrowed: the listener retries once on a dead one (``pipeline.intake.smtp``)."""
    current = settings()
    return make_pool(current.database_url, max_size=8, autocommit=True, check=False)


@cache
def stage_pool() -> ConnectionPool:
    """Connections for pipeline stages, whose state can always be recomputed; all of them
    kept open (``warm_up`` opens them when the worker boots)."""
    current = settings()
    size = current.db_pool_size
    return make_pool(current.database_url, max_size=size, min_size=size, derived_state=True)


def warm_up(timeout: float = 10.0) -> None:
    """Ready a worker for its first job: every stage module imported (imported on first use,
    they cost the first messages of a burst ~130 ms, all threads waiting on the import lock)
    and the stage connections open (opened on demand, a worker's first messages each
    waited for a connection and a new server process)."""
    for name in ORDER:
        stages.load(name)
    stage_pool().wait(timeout)


def stage_context() -> StageContext:
    return StageContext(settings=settings())
