"""Listener-only benchmark: SMTP accept rate and the listener's CPU per message.

    .venv/bin/python bench/smtp_accept.py [-n 4000] [-c 20] [--rate R] [--listeners 1]
                                          [--attach PID ...]

Starts ``--listeners`` copies of ``python -m workers.smtp`` (one port, ``SO_REUSEPORT``)
on ``DATABASE_URL`` / ``REDIS_URL``, with no pipeline workers: the first-stage jobs go to
a throwaway Redis namespace. It creates a throwaway organization and mailbox, sends
``-n`` messages of about 10 KB (those of ``bench/e2e.py``) over ``-c`` concurrent
connections from a few client processes, and prints the accept rate (250 replies per
second) and the CPU the listener processes spent per message (user + system, from
``/proc``; every thread counted). The organization (with its messages) and the Redis
namespace are deleted afterwards.

``--rate R`` offers R messages/s instead of as many as the listener takes: its cost at
the load it sees while the workers run (batching helps less there).

``--attach PID ...`` measures already running listener processes on
``INTAKE_SMTP_LISTEN`` instead; their jobs then go wherever those processes enqueue.

The client is a lean asyncio SMTP client rather than smtplib, so that on a small machine
the sender's own CPU does not cap the rate being measured.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import resource
import smtplib
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.e2e import make_message  # noqa: E402
from config import load_settings  # noqa: E402
from pipeline.db import connect  # noqa: E402
from pipeline.migrate import migrate  # noqa: E402
from pipeline.store import mailboxes, organizations  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
CLIENT_PROCESSES = 2


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` (all their threads), in seconds."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def postgres_pids() -> list[int]:
    """Every PostgreSQL process visible here (the server is often local when benchmarking)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def shared_cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU seconds per pid, leaving out those that have gone."""
    seconds = {}
    for pid in pids:
        try:
            seconds[pid] = cpu_seconds([pid])
        except OSError:
            continue
    return seconds


def wire_message(index: int, run: str, to: str) -> bytes:
    """The DATA payload as sent: dot-stuffed, CRLF-terminated, with the final dot line."""
    body = make_message(index, run, to)
    return re.sub(rb"(?m)^\.", b"..", body) + b".\r\n"


async def reply(reader: asyncio.StreamReader) -> int:
    """Read one (possibly multiline) reply; return its code."""
    while True:
        line = await reader.readuntil(b"\r\n")
        if line[3:4] != b"-":
            return int(line[:3])


async def command(reader, writer, line: bytes) -> int:
    writer.write(line)
    return await reply(reader)


@dataclass(frozen=True)
class Load:
    """What the client processes send, where, and how fast (``rate``: messages/s, or all at
    once when None)."""

    host: str
    port: int
    to: str
    run: str
    rate: float | None


async def send_over(load: Load, messages: list[tuple[int, bytes]], start: float) -> int:
    """Send ``messages`` one after another over one connection; return how many got 250."""
    reader, writer = await asyncio.open_connection(load.host, load.port)
    await reply(reader)
    await command(reader, writer, b"EHLO bench.example\r\n")
    accepted = 0
    rcpt = f"RCPT TO:<{load.to}>\r\n".encode()
    for index, payload in messages:
        if load.rate:
            await asyncio.sleep(start + index / load.rate - time.time())
        if await command(reader, writer, f"MAIL FROM:<c{index}@bench.example>\r\n".encode()) != 250:
            continue
        if await command(reader, writer, rcpt) != 250:
            await command(reader, writer, b"RSET\r\n")
            continue
        if await command(reader, writer, b"DATA\r\n") != 354:
            continue
        accepted += await command(reader, writer, payload) == 250
    await command(reader, writer, b"QUIT\r\n")
    writer.close()
    return accepted


async def send_batches(load: Load, batches: list[list[tuple[int, bytes]]]) -> int:
    start = time.time()
    counts = await asyncio.gather(*(send_over(load, batch, start) for batch in batches))
    return sum(counts)


def client(load: Load, indexes: range, connections: int, barrier, results) -> None:
    """One client process: build its messages, wait for the start signal, send them all."""
    messages = [(i, wire_message(i, load.run, load.to)) for i in indexes]
    batches = [messages[k::connections] for k in range(connections)]
    barrier.wait()
    results.put(asyncio.run(send_batches(load, batches)))


def send_all(load: Load, n: int, connections: int, pids: list[int]):
    """Send ``n`` messages; return (accepted, seconds, listener CPU s, client CPU s, PostgreSQL
    CPU s)."""
    processes = min(CLIENT_PROCESSES, connections)
    barrier = multiprocessing.Barrier(processes + 1)
    results = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(
            target=client,
            args=(
                load,
                range(p, n, processes),
                len(range(p, connections, processes)),
                barrier,
                results,
            ),
        )
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    client_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    barrier.wait()
    database = postgres_pids()
    db_before, cpu_before = shared_cpu_seconds(database), cpu_seconds(pids)
    start = time.perf_counter()
    accepted = sum(results.get() for _ in workers)
    seconds, cpu_after = time.perf_counter() - start, cpu_seconds(pids)
    db_after = shared_cpu_seconds(database)
    db_cpu = sum(db_after[pid] - db_before[pid] for pid in db_after if pid in db_before)
    for worker in workers:
        worker.join()
    client_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = sum(
        getattr(client_after, f) - getattr(client_before, f) for f in ("ru_utime", "ru_stime")
    )
    return accepted, seconds, cpu_after - cpu_before, client_cpu, db_cpu


def start_listeners(count: int, env: dict[str, str], host: str, port: int) -> list:
    listeners = [
        subprocess.Popen([sys.executable, "-m", "workers.smtp"], cwd=ROOT, env=env)
        for _ in range(count)
    ]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            smtplib.SMTP(host, port, timeout=2).quit()
            time.sleep(1)  # let every copy bind and open its pool
            return listeners
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the listener did not start")


def drop_messages(database_url: str, org_id) -> None:
    """Delete the organization, its messages and their blobs. The messages were never
    processed, so nothing references them: skipping the foreign-key triggers (one scan of
    ``messages`` per row) makes it instant."""
    with connect(database_url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(
            "DELETE FROM blobs WHERE sha256 IN (SELECT raw_sha256 FROM messages WHERE org_id = %s)",
            (org_id,),
        )
        conn.execute("DELETE FROM messages WHERE org_id = %s", (org_id,))
        conn.execute("SET LOCAL session_replication_role = origin")
        conn.execute("DELETE FROM organizations WHERE id = %s", (org_id,))


def drop_namespace(redis_url: str, namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{namespace}:*"):
        client.delete(key)


def report(
    n: int,
    connections: int,
    listeners: int,
    accepted: int,
    seconds: float,
    listener_cpu: float,
    client_cpu: float,
    db_cpu: float,
) -> None:
    def per_message(cpu: float) -> str:
        return f"{cpu * 1000 / n:8.3f} ms/msg"

    print(f"cores: {os.cpu_count()}  messages: {n}  connections: {connections}", end="")
    print(f"  listeners: {listeners}")
    print(f"accept rate:    {accepted / seconds:8.1f} msgs/s", end="")
    print(f"  ({seconds:.2f}s, {n - accepted} refused)")
    print(f"listener CPU:   {per_message(listener_cpu)}  ({listener_cpu:.2f}s)")
    print(f"client CPU:     {per_message(client_cpu)}")
    if db_cpu:
        print(f"PostgreSQL CPU: {per_message(db_cpu)}  (every local postgres process)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=4000, help="messages to send")
    parser.add_argument("-c", type=int, default=20, help="concurrent SMTP connections")
    parser.add_argument("--listeners", type=int, default=1, help="listener processes to start")
    parser.add_argument("--attach", type=int, nargs="+", metavar="PID", help="running listeners")
    parser.add_argument("--rate", type=float, help="offered load in messages/s (default: max)")
    parser.add_argument("--warmup", type=int, default=400, help="messages sent before measuring")
    args = parser.parse_args()

    settings = load_settings()
    migrate(settings.database_url)
    run = uuid4().hex[:8]
    namespace = f"bench-{run}"
    address = f"accept-{run}@bench.example"
    with connect(settings.database_url) as conn:
        org_id = organizations.create(conn, f"smtp accept bench {run}")
        mailboxes.create(conn, org_id, address)

    host, port = settings.smtp_host, settings.smtp_port
    listeners = []
    if args.attach:
        pids = args.attach
    else:
        env = {
            **os.environ,
            "INTAKE_REDIS_NAMESPACE": namespace,
            # One client address opens all the connections: let the per-client cap allow them.
            "INTAKE_SMTP_MAX_CONNECTIONS_PER_IP": str(max(20, args.c)),
        }
        listeners = start_listeners(args.listeners, env, host, port)
        pids = [listener.pid for listener in listeners]
    try:
        send_all(Load(host, port, address, f"{run}w", None), args.warmup, args.c, pids)
        load = Load(host, port, address, run, args.rate)
        accepted, seconds, listener_cpu, client_cpu, db_cpu = send_all(load, args.n, args.c, pids)
    finally:
        for listener in listeners:
            listener.terminate()
            listener.wait(timeout=30)
        if listeners:  # attached: the pipeline owns the messages now
            drop_messages(settings.database_url, org_id)
            drop_namespace(settings.redis_url, namespace)

    report(args.n, args.c, len(pids), accepted, seconds, listener_cpu, client_cpu, db_cpu)


if __name__ == "__main__":
    main()
