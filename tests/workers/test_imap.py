"""IMAP sync jobs through real Redis workers: scheduling, the per-folder lock, IDLE pickup."""

from __future__ import annotations

import time

import redis

from pipeline.intake.imap import SyncRequest
from tests.conftest import free_port
from tests.dovecot import make_account
from tests.helpers import mfs, wait_for


def mail(n: int) -> bytes:
    return mfs(f"""
        From: Customer {n} <customer{n}@example.org>
        To: imap@example.com
        Subject: Question {n}
        Message-ID: <jobs-{n}@example.org>

        Question number {n}.
    """)


def count(conn, sql: str, *params) -> int:
    return conn.execute(f"SELECT count(*) AS n FROM {sql}", params).fetchone()["n"]


def test_scheduler_polls_every_active_folder_once_until_its_job_runs(
    conn, org, settings, imap_user
):
    from workers.imap import enqueue_polls
    from workers.scheduler import periodic_tasks

    make_account(conn, org.org_id, imap_user, "a@example.com", sync_folders=["INBOX", "Archive"])
    make_account(conn, org.org_id, imap_user, "b@example.com", is_active=False)

    poll = next(t for t in periodic_tasks(settings) if t.name == "imap_poll")
    assert poll.every == settings.imap_poll_seconds
    assert enqueue_polls() == 2
    assert enqueue_polls() == 0  # still queued: no pile-up behind a slow worker


def test_a_burst_of_new_mail_notices_queues_one_sync(conn, org, imap_user):
    from workers.imap import request_sync

    box = make_account(conn, org.org_id, imap_user)
    assert [request_sync(box, "INBOX") for _ in range(3)] == [True, False, False]


def test_polled_mail_becomes_tickets_and_broken_mailboxes_do_not_stop_the_others(
    conn, org, imap_user, worker
):
    from workers.imap import enqueue_polls

    imap_user.append("INBOX", mail(1), mail(2))
    good = make_account(conn, org.org_id, imap_user, "good@example.com")
    refused = make_account(conn, org.org_id, imap_user, "down@example.com", port=free_port())
    denied = make_account(conn, org.org_id, imap_user, "bad@example.com", password="nope")

    enqueue_polls()

    wait_for(lambda: count(conn, "messages WHERE mailbox_id = %s AND state = 'done'", good) == 2)
    assert count(conn, "tickets") == 2
    errors = wait_for(lambda: _errors(conn, refused, denied))
    assert errors[refused].startswith("connection refused")
    assert errors[denied].startswith("login failed")


def _errors(conn, *ids):
    rows = conn.execute(
        "SELECT id, last_error FROM mailboxes WHERE id = ANY(%s) AND last_error IS NOT NULL",
        (list(ids),),
    ).fetchall()
    return {r["id"]: r["last_error"] for r in rows} if len(rows) == len(ids) else None


def test_a_folder_being_synced_is_never_synced_again_at_the_same_time(
    conn, org, settings, imap_user
):
    from workers.imap import key, run_sync

    imap_user.append("INBOX", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user)
    client = redis.Redis.from_url(settings.redis_url)
    held = client.lock(key(settings, "lock", box, "INBOX"), timeout=30)
    assert held.acquire(blocking=False)

    assert run_sync(box, "INBOX", SyncRequest()) is None
    assert count(conn, "messages") == 0
    assert client.exists(key(settings, "again", box, "INBOX"))  # the holder will look again

    held.release()
    report = run_sync(box, "INBOX", SyncRequest())
    assert report.fetched == 2
    assert not client.exists(key(settings, "again", box, "INBOX"))
    assert count(conn, "messages") == 2


def test_an_explicit_resync_of_a_busy_folder_runs_once_the_folder_is_free(
    conn, org, settings, imap_user, worker
):
    from workers.imap import key, run_sync

    imap_user.append("INBOX", mail(1))
    box = make_account(conn, org.org_id, imap_user)
    assert run_sync(box, "INBOX", SyncRequest()).fetched == 1
    client = redis.Redis.from_url(settings.redis_url)
    held = client.lock(key(settings, "lock", box, "INBOX"), timeout=30)
    assert held.acquire(blocking=False)

    assert run_sync(box, "INBOX", SyncRequest(full_resync=True, manual=True)) is None
    held.release()

    wait_for(lambda: count(conn, "messages WHERE imap_uid = 1") == 2, timeout=20)


def test_idle_picks_up_new_mail_within_seconds(conn, org, settings, imap_user, pool, worker):
    from workers.imap import request_sync
    from workers.imap_idle import IdleSupervisor

    imap_user.append("INBOX", mail(1))
    box = make_account(conn, org.org_id, imap_user)
    supervisor = IdleSupervisor(
        pool, settings, request_sync, redis.Redis.from_url(settings.redis_url)
    )
    supervisor.refresh()
    try:
        # The watcher first catches up on what arrived before it started.
        wait_for(lambda: count(conn, "messages WHERE mailbox_id = %s", box) == 1)
        time.sleep(0.5)  # let it enter IDLE
        started = time.monotonic()
        imap_user.append("INBOX", mail(2))
        wait_for(lambda: count(conn, "messages WHERE mailbox_id = %s", box) == 2, timeout=10)
        assert time.monotonic() - started < 5
        assert count(conn, "messages WHERE mailbox_id = %s AND imap_uid = 2", box) == 1
    finally:
        supervisor.stop_all()


def test_idle_watchers_follow_the_active_folders(conn, org, settings, imap_user, pool):
    from pipeline.store import mailboxes
    from workers.imap_idle import IdleSupervisor

    box = make_account(conn, org.org_id, imap_user, sync_folders=["INBOX"])
    supervisor = IdleSupervisor(
        pool, settings, lambda *_: None, redis.Redis.from_url(settings.redis_url)
    )
    try:
        supervisor.refresh()
        assert set(supervisor.watchers) == {(box, "INBOX")}
        first = supervisor.watchers[(box, "INBOX")]

        conn.execute("UPDATE mailboxes SET last_sync_at = now() WHERE id = %s", (box,))
        supervisor.refresh()
        assert supervisor.watchers[(box, "INBOX")] is first  # a sync stamp restarts nothing

        mailboxes.update_account(conn, org.org_id, box, {"port": 1}, None)
        supervisor.refresh()
        assert supervisor.watchers[(box, "INBOX")] is not first  # new settings, new watcher
        assert not first.thread.is_alive()

        mailboxes.update_account(conn, org.org_id, box, {"is_active": False}, None)
        supervisor.refresh()
        assert supervisor.watchers == {}
    finally:
        supervisor.stop_all()


def test_idle_processes_share_the_folders_one_connection_each(conn, org, settings, imap_user, pool):
    from workers.imap_idle import IdleSupervisor

    make_account(conn, org.org_id, imap_user)
    client = redis.Redis.from_url(settings.redis_url)
    first_calls, second_calls = [], []
    first = IdleSupervisor(pool, settings, lambda *t: first_calls.append(t), client, 0.2)
    second = IdleSupervisor(pool, settings, lambda *t: second_calls.append(t), client, 0.2)
    try:
        first.refresh()
        wait_for(lambda: first_calls)  # watching: it caught up once after selecting
        second.refresh()
        time.sleep(1)
        assert second_calls == []  # the folder's lease is taken

        first.stop_all()
        wait_for(lambda: second_calls, timeout=5)  # taken over once released
    finally:
        first.stop_all()
        second.stop_all()


def test_a_watcher_renews_its_lease_and_stops_when_it_lost_it(settings, monkeypatch):
    import pytest

    from workers import imap_idle

    monkeypatch.setattr(imap_idle, "LEASE_SECONDS", 0)  # renew on every tick
    client = redis.Redis.from_url(settings.redis_url)
    name = f"{settings.redis_namespace}:imap:idle:test"
    lease = client.lock(name, timeout=30)
    assert lease.acquire(blocking=False)
    client.expire(name, 5)
    tick = imap_idle._renewer(lease)

    tick()
    assert client.ttl(name) > 5  # renewed to the lease's full TTL

    client.delete(name)  # expired, or taken by another process
    with pytest.raises(imap_idle.LeaseLost):
        tick()


def test_sync_events_reach_webhook_subscribers_signed(
    conn, org, settings, imap_user, worker, http_receiver
):
    import json

    from pipeline.crypto import encrypt
    from pipeline.store import webhooks
    from workers.imap import run_sync

    http_receiver.secret = "whsec-imap"
    webhooks.create(
        conn,
        org.org_id,
        http_receiver.url("/imap"),
        ["sync.completed", "sync.failed"],
        encrypt(settings.secret_key, "whsec-imap"),
        True,
    )
    imap_user.append("INBOX", mail(1))
    good = make_account(conn, org.org_id, imap_user, "good@example.com")
    bad = make_account(conn, org.org_id, imap_user, "bad@example.com", password="nope")

    run_sync(good, "INBOX", SyncRequest())
    run_sync(bad, "INBOX", SyncRequest())

    wait_for(lambda: len(http_receiver.hits) == 2)
    assert all(hit.signature_valid for hit in http_receiver.hits)
    events = {e["type"]: e["data"] for e in (json.loads(h.body) for h in http_receiver.hits)}
    assert events["sync.completed"]["account_id"] == good
    assert events["sync.completed"]["fetched"] == 1
    assert events["sync.failed"]["account_id"] == bad
    assert events["sync.failed"]["error"].startswith("login failed for")
