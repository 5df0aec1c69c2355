"""Per-process resources, created on first use: settings and the database pool."""

from __future__ import annotations

from functools import cache

from psycopg_pool import ConnectionPool

from config import Settings, load_settings
from pipeline.db import make_pool
from pipeline.stages import StageContext


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
    """Autocommit connections for the listener's recipient lookups (cache misses only; it
    stores on asyncio connections of its own, see ``pipeline.intake.smtp.AsyncStore``)."""
    current = settings()
    return make_pool(current.database_url, max_size=4, autocommit=True, check=False)


@cache
def stage_pool() -> ConnectionPool:
    """Connections for pipeline stages, whose state can always be recomputed."""
    current = settings()
    return make_pool(current.database_url, max_size=current.db_pool_size, derived_state=True)


def stage_context() -> StageContext:
    return StageContext(settings=settings())
