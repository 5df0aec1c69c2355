"""Crash test: the real processes (SMTP listener, Dramatiq worker, scheduler) on the test
database, each killed with SIGKILL while mail arrives over SMTP, then restarted.

The processes run as the ``Procfile`` says (one worker process of two threads; the ``io``
process, which sends the auto-replies, runs beside them and is not killed). Kills:
the listener after its commit and before its hand-over, the worker inside a run's
transaction and after a run's commit before its jobs are sent (``INTAKE_CRASH_AT``, see
``pipeline.faults``), the scheduler from outside. Every mail must become exactly one
ticket within 30 s of the restart that followed its crash, and get one auto-reply, never
two: sent, or left ``sending`` when a worker was killed in the middle of handing it to
the relay (it may have left, so it is not sent again).
"""

from __future__ import annotations

import contextlib
import os
import signal
import smtplib
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from honcho.environ import parse_procfile

from tests.conftest import ROOT, free_port
from tests.helpers import mfs, wait_for

MAILS = 12
RECOVERY_LIMIT_SECONDS = 30.0


@dataclass
class Proc:
    """A process of the system, restarted by ``Supervisor`` whenever it dies. Each start
    takes the next crash point of ``crashes`` (then none)."""

    name: str
    argv: list[str]
    crashes: list[str | None]
    log: Path
    process: subprocess.Popen | None = None
    restarts: list[float] = field(default_factory=list)
    exits: list[int] = field(default_factory=list)

    def start(self, env: dict[str, str]) -> None:
        crash = self.crashes.pop(0) if self.crashes else None
        child_env = {**env, "INTAKE_CRASH_AT": crash} if crash else env
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=child_env, stdout=out, stderr=out, start_new_session=True
            )

    def kill(self) -> None:
        """SIGKILL the whole process group (dramatiq's worker processes too)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Supervisor:
    """Restarts any process that died, as an init system would, noting when."""

    def __init__(self, procs: list[Proc], env: dict[str, str]) -> None:
        self.procs, self.env = procs, env
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        for proc in self.procs:
            proc.start(self.env)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(0.1):
            for proc in self.procs:
                code = proc.process.poll() if proc.process is not None else None
                if code is not None:
                    proc.exits.append(code)
                    proc.kill()  # what is left of its group
                    proc.start(self.env)
                    proc.restarts.append(time.time())

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()
        for proc in self.procs:
            proc.kill()


def _mail(n: int) -> bytes:
    return mfs(f"""
        From: Customer {n} <customer{n}@example.org>
        To: support@example.com
        Subject: Crash test {n}
        Message-ID: <crash-{n}@example.org>

        Mail number {n}.
    """)


def _send(port: int, n: int, deadline: float) -> float:
    """Send mail ``n`` until the listener accepts it; return when it did."""
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
                client.sendmail(f"customer{n}@example.org", ["support@example.com"], _mail(n))
                accepted = time.time()
                with contextlib.suppress(smtplib.SMTPException):
                    client.quit()  # the listener may die after accepting: the mail is stored
                return accepted
        except (OSError, smtplib.SMTPException):
            if time.time() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def system(tmp_path, smtp_sink, conn, org, mailbox):
    from pipeline.store import send_configs

    conn.execute("UPDATE organizations SET auto_reply_enabled = true WHERE id = %s", (org.org_id,))
    send_configs.create_config(
        conn, org.org_id, name="sink", host=smtp_sink.host, port=smtp_sink.port,
        tls_mode="none", from_email="support@example.com", is_default=True,
    )  # fmt: skip
    port = free_port()
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "INTAKE_SMTP_LISTEN": f"127.0.0.1:{port}",
        "INTAKE_WORKER_PROCESSES": "1",
        "INTAKE_WORKER_THREADS": "2",
        "INTAKE_IO_THREADS": "2",
    }
    commands = parse_procfile((ROOT / "Procfile").read_text()).processes
    crashes = {"smtp": ["handover:3"], "worker": ["stage:3", "after_commit:3"], "scheduler": []}
    procs = [
        Proc(name, ["sh", "-c", f"exec {commands[name]}"], points, tmp_path / f"{name}.log")
        for name, points in crashes.items()
    ]
    # Sends the auto-replies; never killed here.
    io = Proc("io", ["sh", "-c", f"exec {commands['io']}"], [], tmp_path / "io.log")
    supervisor = Supervisor([*procs, io], env)
    supervisor.start()
    try:
        yield port, {p.name: p for p in procs}, smtp_sink
    finally:
        supervisor.stop()
        for proc in procs:  # shown by pytest when the test fails
            tail = proc.log.read_text(errors="replace").splitlines()[-15:]
            print(f"--- {proc.name}: exits {proc.exits}", *tail, sep="\n")


def _auto_replies(conn) -> dict[str, str]:
    """Recipient → status of each auto-reply (one row per recipient, or the test fails)."""
    rows = conn.execute(
        "SELECT to_addresses[1] AS rcpt, status FROM sent_mails WHERE kind = 'auto_reply'"
    ).fetchall()
    replies = {r["rcpt"]: r["status"] for r in rows}
    assert len(replies) == len(rows), rows
    return replies


def _pending(conn) -> bool:
    """Whether a stored message still waits for (or is in) its pipeline run."""
    return bool(
        conn.execute(
            "SELECT 1 FROM messages WHERE state IN ('received', 'processing') LIMIT 1"
        ).fetchone()
    )


def _ticket_times(conn) -> dict[str, list[float]]:
    """Message-ID → creation times of the tickets its mails are on."""
    rows = conn.execute(
        """SELECT m.message_id, extract(epoch FROM t.created_at)::float8 AS at
           FROM messages m JOIN tickets t ON t.id = m.ticket_id"""
    ).fetchall()
    found: dict[str, list[float]] = {}
    for row in rows:
        found.setdefault(row["message_id"], []).append(row["at"])
    return found


@pytest.mark.timeout(110)
def test_every_mail_becomes_one_ticket_within_30_s_of_any_restart(system, conn):
    port, procs, sink = system
    accepted: dict[str, float] = {}
    for n in range(MAILS):
        accepted[f"<crash-{n}@example.org>"] = _send(port, n, time.time() + 20)
        if n == MAILS // 2:
            procs["scheduler"].kill()  # from outside; the supervisor restarts it
        time.sleep(0.2)

    def every_reply_settled() -> bool:
        return (
            not conn.execute(
                "SELECT 1 FROM sent_mails WHERE kind = 'auto_reply' AND status = 'queued'"
            ).fetchone()
            and len(_auto_replies(conn)) == MAILS
        )

    sent = time.time()
    wait_for(lambda: len(_ticket_times(conn)) == MAILS, timeout=60, interval=0.2)
    all_tickets = time.time() - sent
    wait_for(every_reply_settled, timeout=60, interval=0.2)
    all_replies = time.time() - sent
    # A copy stored just before the listener died, whose 250 never reached the sender (who
    # sent it again), is picked up like any other mail left behind, within seconds.
    wait_for(lambda: not _pending(conn), timeout=30, interval=0.2)
    time.sleep(1)  # room for a duplicate to show

    tickets = _ticket_times(conn)
    assert sorted(tickets) == sorted(accepted)
    assert all(len(times) == 1 for times in tickets.values())
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == MAILS
    states = conn.execute("SELECT state, count(*) AS n FROM messages GROUP BY state").fetchall()
    counted = {row["state"]: row["n"] for row in states}
    assert counted.pop("done") == MAILS
    assert set(counted) <= {"duplicate"}  # a mail resent because its 250 never arrived
    replies = _auto_replies(conn)
    assert sorted(replies) == sorted(f"customer{n}@example.org" for n in range(MAILS))
    delivered = sorted(m.rcpt_tos[0] for m in sink.messages)
    assert delivered == sorted(to for to, status in replies.items() if status == "sent")
    left_sending = sum(status == "sending" for status in replies.values())
    assert left_sending <= 1  # at most what the killed worker was sending

    kills = {name: len(p.exits) for name, p in procs.items()}
    assert kills == {"smtp": 1, "worker": 2, "scheduler": 1}
    assert all(code in (-signal.SIGKILL, 1) for p in procs.values() for code in p.exits), procs
    restarts = sorted(t for p in procs.values() for t in p.restarts)
    delays = []
    for message_id, (ticket_at,) in tickets.items():
        before = [t for t in restarts if t <= ticket_at]
        start = max([accepted[message_id], *before])
        delays.append(ticket_at - start)
    first = min(accepted.values())
    timeline = {n: [round(t - first, 1) for t in p.restarts] for n, p in procs.items()}
    slowest = {m: round(t[0] - first, 1) for m, t in tickets.items()}
    print(f"\nrestarts {timeline}; tickets {sorted(slowest.values())}")
    print(
        f"crash test: {MAILS} mails, kills {kills}; max {max(delays):.1f} s from acceptance "
        f"or restart to ticket; every ticket {all_tickets:.1f} s and every auto-reply "
        f"{all_replies:.1f} s after the last mail ({left_sending} left sending)"
    )
    assert max(delays) <= RECOVERY_LIMIT_SECONDS
