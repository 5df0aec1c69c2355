"""The README's promise on a machine with no PostgreSQL or Redis: ``intake up`` alone gets a
mail to a ticket, and stops everything it started. These tests always use the embedded
servers, whatever the machine runs, because they remove ``DATABASE_URL`` / ``REDIS_URL``.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, free_port
from tests.helpers import mfs, wait_for

MAIL = mfs("""
    From: newcomer@example.org
    To: support@acme.test
    Subject: The printer is on fire
    Message-ID: <newcomer-1@example.org>

    Please send help.
""")


def _intake() -> list[str]:
    """The ``intake`` command installed beside this Python, as the README runs it."""
    script = Path(sys.executable).parent / "intake"
    return [str(script)] if script.exists() else [sys.executable, "-m", "workers.cli"]


def _newcomer_env(var_dir: Path, web_port: int, smtp_port: int) -> dict[str, str]:
    """This environment without any service URL, so only the embedded servers can answer."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "INTAKE_SECRET_KEY"}
    }
    env.update(
        INTAKE_VAR_DIR=str(var_dir),
        PORT=str(web_port),
        INTAKE_SMTP_LISTEN=f"127.0.0.1:{smtp_port}",
        INTAKE_WORKER_PROCESSES="1",
        INTAKE_WORKER_THREADS="2",
        INTAKE_WEB_WORKERS="1",
    )
    return env


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def _started_by(var_dir: Path) -> set[int]:
    """Processes running with this ``INTAKE_VAR_DIR``, plus the embedded servers' own pids
    (Redis and PostgreSQL rewrite their process titles over their environment)."""
    marker = f"INTAKE_VAR_DIR={var_dir}".encode()
    pids = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker in (proc / "environ").read_bytes().split(b"\0"):
                    pids.add(int(proc.name))
            except OSError:
                continue
    for pidfile in (var_dir / "redis" / "redis.pid", var_dir / "pg" / "postmaster.pid"):
        if pidfile.exists():
            pids.add(int(pidfile.read_text().split()[0]))
    return pids


def _get_json(url: str, headers: dict[str, str]) -> dict:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _tickets(base: str, key: dict) -> list[dict]:
    headers = {"X-API-Key": key["key"], "X-API-Secret": key["secret"]}
    return _get_json(f"{base}/api/tickets", headers)["data"]


def test_a_newcomer_gets_from_intake_up_to_a_ticket_read_through_the_api(tmp_path):
    var_dir = tmp_path / "var"
    web_port, smtp_port = free_port(), free_port()
    env = _newcomer_env(var_dir, web_port, smtp_port)
    started = time.monotonic()
    process = subprocess.Popen(
        [*_intake(), "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(lambda: _listening(web_port) or process.poll() is not None, 120, 0.1)
        assert process.poll() is None, process.stdout.read().decode(errors="replace")
        web_open = time.monotonic() - started
        wait_for(lambda: _listening(smtp_port), 60, 0.1)

        def cli(*args: str) -> dict:
            done = subprocess.run([*_intake(), *args], cwd=ROOT, env=env, capture_output=True)
            assert done.returncode == 0, done.stderr.decode(errors="replace")
            return json.loads(done.stdout)

        key = cli("org", "create", "Acme Support")
        cli("mailbox", "create", "--org", key["id"], "--address", "support@acme.test")
        sent = time.monotonic()
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.sendmail("newcomer@example.org", ["support@acme.test"], MAIL)
        base = f"http://127.0.0.1:{web_port}"
        tickets = wait_for(lambda: _tickets(base, key), 30, 0.1)
        ticket_visible = time.monotonic() - sent
        assert [t["subject"] for t in tickets] == ["The printer is on fire"]
        pids = _started_by(var_dir)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
        output = process.communicate(timeout=60)[0].decode(errors="replace")
    print(
        f"\nweb port open after {web_open:.1f} s; ticket visible {ticket_visible:.2f} s after send"
    )

    assert "Traceback" not in output, output
    assert "XDG_RUNTIME_DIR" not in output
    wait_for(lambda: not [pid for pid in pids if _alive(pid)], 30, 0.2)
    assert not _listening(web_port) and not _listening(smtp_port)


def test_intake_up_that_cannot_start_says_why_in_one_line_and_leaves_nothing_running(tmp_path):
    var_dir = tmp_path / "var"
    web_port = free_port()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        smtp_port = squatter.getsockname()[1]
        done = subprocess.run(
            [*_intake(), "up"],
            cwd=ROOT,
            env=_newcomer_env(var_dir, web_port, smtp_port),
            capture_output=True,
            timeout=120,
        )
    errors = done.stderr.decode().strip()
    assert done.returncode != 0
    assert errors == f"intake up: the SMTP port 127.0.0.1:{smtp_port} is already in use"
    assert not [pid for pid in _started_by(var_dir) if _alive(pid)]
