"""Real PostgreSQL and Redis for every test.

Servers: ``DATABASE_URL`` / ``REDIS_URL`` when set; otherwise the CI services on
127.0.0.1 (PostgreSQL 5432 database ``test``, Redis 6379) when they answer; otherwise the
embedded servers under ``./var/test``. Each test session gets its own throwaway database
and its own Redis key namespace, so parallel runs never see each other. Tables are
truncated between tests (workers and the SMTP listener use their own connections, so a
per-test rollback would not cover them).
"""

from __future__ import annotations

import os
import secrets
import socket
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

from config import embedded, load_settings

ROOT = Path(__file__).resolve().parent.parent
CI_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CI_REDIS = "redis://127.0.0.1:6379/0"
RUN_ID = secrets.token_hex(4)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _server_urls() -> tuple[str, str]:
    db = os.environ.get("DATABASE_URL") or (CI_POSTGRES if _listening(5432) else "")
    rd = os.environ.get("REDIS_URL") or (CI_REDIS if _listening(6379) else "")
    if db and rd:
        return db, rd
    fallback = load_settings(
        {"DATABASE_URL": db, "REDIS_URL": rd, "INTAKE_VAR_DIR": str(ROOT / "var" / "test")}
    )
    settings, _ = embedded.ensure(fallback)
    return settings.database_url, settings.redis_url


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _bootstrap() -> tuple[str, str, str]:
    """Create this session's database and export the environment the code under test reads."""
    server_db, redis_url = _server_urls()
    db_name = f"intake_test_{RUN_ID}"
    with psycopg.connect(server_db, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db_name}"')
    database_url = _with_database(server_db, db_name)
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "INTAKE_REDIS_NAMESPACE": f"intake-test-{RUN_ID}",
            "INTAKE_SECRET_KEY": "test-secret-key-" + RUN_ID,
            "INTAKE_FETCH_ALLOW_PRIVATE": "1",
            "INTAKE_IMAP_ALLOW_PRIVATE": "1",  # Dovecot listens on 127.0.0.1
        }
    )
    from pipeline.migrate import migrate

    migrate(database_url)
    return server_db, database_url, db_name


SERVER_DB, DATABASE_URL, DB_NAME = _bootstrap()


def _empty_redis_namespace(settings) -> None:
    client = redis.Redis.from_url(settings.redis_url)
    for key in client.scan_iter(f"{settings.redis_namespace}*", count=1000):
        client.delete(key)


@pytest.fixture(scope="session", autouse=True)
def _drop_database_at_end():
    """Leave the servers as the run found them: its database dropped, its keys deleted."""
    yield
    from workers import runtime

    runtime.pool().close()
    runtime.stage_pool().close()
    with psycopg.connect(SERVER_DB, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _empty_redis_namespace(load_settings())


@pytest.fixture(scope="session")
def settings():
    return load_settings()


@pytest.fixture(scope="session")
def pool():
    from workers import runtime

    return runtime.pool()


@pytest.fixture(scope="session")
def _tables() -> list[str]:
    with psycopg.connect(DATABASE_URL) as conn:
        rows = conn.execute(
            """SELECT tablename FROM pg_tables WHERE schemaname = 'public'
               AND tablename NOT LIKE '\\_yoyo%%' AND tablename NOT LIKE 'yoyo%%'"""
        ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture(autouse=True)
def _clean_state(_tables, settings):
    """Every test starts with empty tables and an empty Redis namespace."""
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in _tables) + " RESTART IDENTITY CASCADE"
        )
    _empty_redis_namespace(settings)
    yield


@pytest.fixture
def conn():
    """An autocommit connection for arranging and asserting (rows as dicts)."""
    from pipeline.db import connect

    with connect(DATABASE_URL) as connection:
        connection.autocommit = True
        yield connection


@pytest.fixture
def org(conn):
    from tests.helpers import make_org

    return make_org(conn)


@pytest.fixture
def mailbox(conn, org):
    from pipeline.store import mailboxes

    return mailboxes.create(conn, org.org_id, "support@example.com", "Support")


@pytest.fixture(scope="session")
def app():
    from web import create_app

    application = create_app(load_settings())
    application.testing = True
    return application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def broker():
    from workers import actors

    return actors.broker.broker


@pytest.fixture
def worker(broker):
    """A real Dramatiq worker over the real Redis broker, in this process."""
    import dramatiq

    broker.emit_after("process_boot")
    running = dramatiq.Worker(broker, worker_threads=4, worker_timeout=100)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def smtp_server(settings, pool):
    """The real SMTP listener on a free loopback port, handing over to the real broker."""
    from workers.smtp import hand_over_accepted, make_listener

    listener = make_listener(
        settings.with_overrides(smtp_host="127.0.0.1", smtp_port=free_port()),
        pool,
        hand_over_accepted,
    )
    listener.start()
    yield listener
    listener.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_sink():
    """A real SMTP relay stand-in (aiosmtpd) that records what it accepts."""
    from tests.sinks import SmtpSink

    sink = SmtpSink(free_port())
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture
def http_receiver():
    """A real HTTP server in a thread that records webhook POSTs and checks signatures."""
    from tests.sinks import HttpReceiver

    receiver = HttpReceiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def serve_files():
    """Start local HTTP file servers (``tests/files.py``): ``serve_files(answer)`` gives
    the base URL of one; all stop when the test ends."""
    from tests.files import file_server

    with ExitStack() as stack:
        yield lambda answer: stack.enter_context(file_server(answer))


# A real Dovecot for the IMAP tests (started on first use).
from tests.dovecot import dovecot, dovecot_tls, imap_tls_user, imap_user  # noqa: E402, F401
