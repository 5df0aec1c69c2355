"""The web front under the real gunicorn, with the project's own settings, on a free port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT, free_port
from tests.helpers import wait_for


@dataclass(frozen=True)
class Served:
    base_url: str
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def gunicorn(tmp_path: Path, workers: int = 2) -> Iterator[Served]:
    """``gunicorn -c python:config.gunicorn`` as the Procfile runs it; its stdout and stderr
    (access and error logs, the application's own lines) go to one file."""
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    env = {**os.environ, "INTAKE_WEB_WORKERS": str(workers)}
    command = [sys.executable, "-m", "gunicorn", "-c", "python:config.gunicorn"]
    command += ["--bind", f"127.0.0.1:{port}", "web:create_app()"]
    with log_path.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    served = Served(f"http://127.0.0.1:{port}", port, log_path)
    try:
        wait_for(lambda: _answers(f"{served.base_url}/healthz"), 30, 0.2)
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
