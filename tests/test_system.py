"""The two commands a newcomer runs: the whole system starts, and the embedded fallback works."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import subprocess
import sys
import urllib.request

import psycopg
import redis

from config import embedded, load_settings
from tests.conftest import ROOT, free_port
from tests.helpers import mfs, wait_for

MAIL = mfs("""
    From: newcomer@example.org
    To: desk@example.com
    Subject: First contact
    Message-ID: <first-contact@example.org>

    Does this thing work?
""")


def _get(url: str, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_intake_up_runs_web_workers_smtp_and_scheduler_until_interrupted(conn):
    from pipeline.store import mailboxes
    from tests.helpers import make_org

    org = make_org(conn)
    mailboxes.create(conn, org.org_id, "desk@example.com")
    web_port, smtp_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(web_port),
        "INTAKE_SMTP_LISTEN": f"127.0.0.1:{smtp_port}",
        "INTAKE_WORKER_PROCESSES": "1",
        "INTAKE_WORKER_THREADS": "2",
        "INTAKE_WEB_WORKERS": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{web_port}"
        wait_for(lambda: _try(lambda: _get(f"{base}/readyz", {})["status"] == "ready"), 30, 0.3)
        wait_for(lambda: _try(lambda: smtplib.SMTP("127.0.0.1", smtp_port, timeout=2).quit()), 30)
        with smtplib.SMTP("127.0.0.1", smtp_port) as smtp:
            smtp.sendmail("newcomer@example.org", ["desk@example.com"], MAIL)
        tickets = wait_for(lambda: _get(f"{base}/api/tickets", org.headers)["data"], 15)
        assert tickets[0]["subject"] == "First contact"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=30)[0].decode(errors="replace")
    assert process.returncode is not None, output


def _try(probe) -> bool:
    """True once ``probe`` runs without raising and does not return False."""
    try:
        return probe() is not False
    except Exception:
        return False


def test_embedded_servers_start_under_var_when_no_urls_are_set(tmp_path):
    settings = load_settings({"INTAKE_VAR_DIR": str(tmp_path / "var")})
    ready, services = embedded.ensure(settings, stop_at_exit=True)
    try:
        with psycopg.connect(ready.database_url) as pg:
            assert pg.execute("SELECT 1").fetchone() == (1,)
        assert redis.Redis.from_url(ready.redis_url).ping()
        assert ready.secret_key
        assert (tmp_path / "var" / "secret_key").read_text().strip() == ready.secret_key
    finally:
        services.stop()
    assert not embedded._redis_alive(services.redis_socket)
