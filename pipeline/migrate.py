"""Apply the SQL migrations in ``pipeline/migrations`` with yoyo.

Idempotent: yoyo records what it applied and takes a lock, so several processes
starting at once apply each migration exactly once.
"""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS = Path(__file__).parent / "migrations"


def yoyo_uri(database_url: str) -> str:
    """yoyo picks its driver from the scheme: ask for psycopg 3."""
    scheme, _, rest = database_url.partition("://")
    if scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    return database_url


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations; return the ids applied now."""
    backend = get_backend(yoyo_uri(database_url))
    migrations = read_migrations(str(MIGRATIONS))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]
