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
    current = settings()
    return make_pool(current.database_url, max_size=current.db_pool_size)


def stage_context() -> StageContext:
    return StageContext(settings=settings())
