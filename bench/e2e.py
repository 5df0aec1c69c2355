"""End-to-end benchmark: real SMTP into the full running system, tickets out.

    .venv/bin/python bench/e2e.py [-n 2000] [-c 20] [--rate 150] [--attach]

Starts the whole system the way ``intake up`` does (web, workers, SMTP listener,
scheduler, on the configured or embedded PostgreSQL and Redis), creates a fresh
organization and mailbox, sends N messages of about 10 KB with a small attachment over C
concurrent SMTP connections, and prints:

- the SMTP accept rate (messages answered 250 per second),
- the end-to-end rate (first accepted → last ticket created),
- receive-to-ticket latency p50 / p99 (``tickets.created_at - messages.received_at``),
- the resident memory of every process before and after.

``--rate R`` offers load at R messages/s instead of as fast as possible (latency under a
steady load). ``--attach`` uses an already running system (``INTAKE_SMTP_LISTEN``).
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from config import embedded, load_settings  # noqa: E402
from pipeline.db import connect  # noqa: E402
from pipeline.migrate import migrate  # noqa: E402
from pipeline.store import mailboxes, organizations  # noqa: E402

ATTACHMENT = base64.encodebytes(os.urandom(1500)).decode()
FILLER = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 130)[:7000]


def make_message(index: int, run: str, to: str) -> bytes:
    return (
        f"From: Customer {index} <customer{index % 500}@bench.example>\r\n"
        f"To: {to}\r\n"
        f"Subject: Benchmark request {index}\r\n"
        f"Message-ID: <bench-{run}-{index}@bench.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello, this is request {index}.\r\n{FILLER}\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="log.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{ATTACHMENT}\r\n--b--\r\n"
    ).encode()


def send_all(
    host: str, port: int, to: str, run: str, n: int, connections: int, rate: float | None
) -> tuple[float, int]:
    """Send ``n`` messages over ``connections`` connections; return (seconds, failures)."""
    failures = 0
    lock = threading.Lock()
    start = time.perf_counter()

    def worker(offset: int) -> None:
        nonlocal failures
        with smtplib.SMTP(host, port, timeout=60) as client:
            for index in range(offset, n, connections):
                if rate:
                    delay = start + index / rate - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                try:
                    client.sendmail(
                        f"customer{index}@bench.example", [to], make_message(index, run, to)
                    )
                except smtplib.SMTPException:
                    with lock:
                        failures += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, failures


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def rss_by_process(root: int) -> dict[str, int]:
    """Resident memory (KiB) of every process in the tree, keyed by pid and command."""
    sizes = {}
    for pid in process_tree(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
        except OSError:
            continue
        rss = next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
        )
        sizes[f"{pid} {cmd.strip()}"] = rss
    return sizes


AUTOANALYZE_SQL = """
    SELECT format('%I.%I', s.schemaname, s.relname) AS name
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0)"""


def keep_statistics(database_url: str, stop: threading.Event) -> None:
    """Analyze each table that changed by more than 50 rows plus 10 %, every second, as
    autovacuum does on a production server (its default thresholds), when the server runs
    without it (as CI machines do). Without fresh statistics, the plans the workers'
    connections cache while the tables are nearly empty (sequential scans) stay in use as
    the tables grow, and the run measures the planner, not the pipeline."""
    with connect(database_url) as conn:
        conn.autocommit = True
        if conn.execute("SHOW autovacuum").fetchone()["autovacuum"] == "on":
            return
        while not stop.wait(1.0):
            for row in conn.execute(AUTOANALYZE_SQL).fetchall():
                conn.execute(f"ANALYZE {row['name']}")


def wait_for_tickets(database_url: str, org_id, n: int, timeout: float) -> list[float]:
    deadline = time.monotonic() + timeout
    with connect(database_url) as conn:
        conn.autocommit = True
        while time.monotonic() < deadline:
            done = conn.execute(
                "SELECT count(*) AS n FROM tickets WHERE org_id = %s", (org_id,)
            ).fetchone()["n"]
            if done >= n:
                break
            time.sleep(0.2)
        rows = conn.execute(
            """SELECT extract(epoch FROM t.created_at - m.received_at) AS latency,
                      extract(epoch FROM m.received_at) AS received,
                      extract(epoch FROM t.created_at) AS created
               FROM tickets t JOIN messages m ON m.id = t.source_message_id
               WHERE t.org_id = %s""",
            (org_id,),
        ).fetchall()
    return rows


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def start_system(settings, env_overrides: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, **embedded.environment(settings), **env_overrides}
    process = subprocess.Popen(
        [sys.executable, "-m", "workers.cli", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    host, port = settings.smtp_host, settings.smtp_port
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP(host, port, timeout=2).quit()
            time.sleep(2)  # let workers finish booting
            return process
        except OSError:
            time.sleep(0.3)
    raise SystemExit("system did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=2000, help="messages to send")
    parser.add_argument("-c", type=int, default=20, help="concurrent SMTP connections")
    parser.add_argument("--rate", type=float, help="offered load in messages/s")
    parser.add_argument("--attach", action="store_true", help="use an already running system")
    parser.add_argument("--smtp-port", type=int, default=2599)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()

    base = load_settings()
    if not args.attach:
        base = base.with_overrides(smtp_port=args.smtp_port)
    settings, services = embedded.ensure(base)
    migrate(settings.database_url)
    run = uuid4().hex[:8]
    address = f"bench-{run}@bench.example"
    with connect(settings.database_url) as conn:
        org_id = organizations.create(conn, f"bench {run}")
        mailboxes.create(conn, org_id, address)
        conn.commit()
        # Planner statistics, as autovacuum keeps them on a production server: a database
        # never analyzed (a fresh one, or a server run with autovacuum off, as on CI
        # machines) is planned as if every table were tiny.
        conn.execute("ANALYZE")

    # One client address opens all the connections: let the listener's per-client cap allow them.
    overrides = {"PORT": "8799", "INTAKE_SMTP_MAX_CONNECTIONS_PER_IP": str(max(20, args.c))}
    system = None if args.attach else start_system(settings, overrides)
    stop_statistics = threading.Event()
    statistics_thread = threading.Thread(
        target=keep_statistics, args=(settings.database_url, stop_statistics), daemon=True
    )
    statistics_thread.start()
    try:
        before = rss_by_process(system.pid) if system else {}
        seconds, failures = send_all(
            settings.smtp_host, settings.smtp_port, address, run, args.n, args.c, args.rate
        )
        rows = wait_for_tickets(settings.database_url, org_id, args.n - failures, args.timeout)
        after = rss_by_process(system.pid) if system else {}
    finally:
        stop_statistics.set()
        if system:
            os.killpg(system.pid, signal.SIGINT)
            system.wait(timeout=60)
        services.stop()

    latencies = [float(r["latency"]) for r in rows]
    span = max(float(r["created"]) for r in rows) - min(float(r["received"]) for r in rows)
    print(
        f"cores: {os.cpu_count()}  messages: {args.n}  connections: {args.c}"
        f"  offered rate: {args.rate or 'max'}"
    )
    print(f"SMTP accept rate: {args.n / seconds:8.1f} msgs/s  ({seconds:.2f}s, {failures} refused)")
    print(f"end-to-end rate:  {len(rows) / span:8.1f} msgs/s  ({len(rows)} tickets in {span:.2f}s)")
    print(
        f"receive→ticket:   p50 {statistics.median(latencies) * 1000:.0f} ms"
        f"  p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
        f"  max {max(latencies) * 1000:.0f} ms"
    )
    if before:
        print("resident memory (KiB) before → after:")
        for name in sorted(after):
            print(f"  {before.get(name, 0):>8} → {after[name]:>8}  {name}")


if __name__ == "__main__":
    main()
