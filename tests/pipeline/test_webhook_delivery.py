"""Webhook delivery against a real HTTP receiver: signatures, retries, counters, disabling."""

from __future__ import annotations

import json
from datetime import timedelta

from pipeline import crypto
from pipeline.events import emit
from pipeline.outbound.webhooks import deliver, retry_delay
from pipeline.store import webhooks
from tests.helpers import wait_for

SECRET = "whsec_receiver_secret"


def subscribe(conn, org_id, settings, receiver, events=("email.received",)):
    receiver.secret = SECRET
    return webhooks.create(
        conn,
        org_id,
        receiver.url(),
        list(events),
        crypto.encrypt(settings.secret_key, SECRET),
        True,
    )


def raise_event(pool, org_id, key="email.received:1", data=None):
    with pool.connection() as conn, conn.transaction():
        jobs = emit(conn, org_id, "email.received", key, data or {"id": 1, "subject": "Hi"})
    return [job.args[0] for job in jobs]


def attempts(conn):
    return conn.execute("SELECT * FROM webhook_deliveries ORDER BY id").fetchall()


def hook_row(conn, hook_id):
    return conn.execute("SELECT * FROM webhooks WHERE id = %s", (hook_id,)).fetchone()


def test_a_delivery_is_signed_so_the_receiver_can_verify_it(
    pool, conn, org, settings, http_receiver
):
    hook = subscribe(conn, org.org_id, settings, http_receiver)
    [delivery_id] = raise_event(pool, org.org_id)

    result = deliver(pool, delivery_id, settings)

    assert result.ok and result.response_code == 200
    [hit] = http_receiver.hits
    assert hit.signature_valid is True
    assert hit.headers["X-Intake-Event"] == "email.received"
    assert hit.headers["X-Intake-Delivery"] == str(delivery_id)
    assert hit.headers["Content-Type"] == "application/json"
    body = json.loads(hit.body)
    event = conn.execute("SELECT id FROM webhook_events").fetchone()
    assert body["id"] == str(event["id"])
    assert body["type"] == "email.received"
    assert body["created_at"].endswith("Z")
    assert body["data"] == {"id": 1, "subject": "Hi"}
    [row] = attempts(conn)
    assert (row["status"], row["response_code"], row["response_body"]) == ("success", 200, "OK")
    assert row["latency_ms"] is not None
    counters = hook_row(conn, hook["id"])
    assert (counters["trigger_count"], counters["success_count"], counters["failure_count"]) == (
        1,
        1,
        0,
    )
    assert counters["last_success_at"] is not None and counters["last_failure_at"] is None


def test_a_tampered_body_or_another_secret_fails_verification():
    from pipeline.outbound.webhooks import sign
    from tests.sinks import verify_signature

    header = sign("s1", 1700000000, b'{"a":1}')
    assert verify_signature("s1", header, b'{"a":1}')
    assert not verify_signature("s1", header, b'{"a":2}')
    assert not verify_signature("s2", header, b'{"a":1}')


def test_failures_are_recorded_and_retried_with_exponential_backoff(
    pool, conn, org, settings, http_receiver
):
    from workers.scheduler import requeue_webhook_attempts

    hook = subscribe(conn, org.org_id, settings, http_receiver)
    http_receiver.answer_next(500, 503)
    [delivery_id] = raise_event(pool, org.org_id)

    assert deliver(pool, delivery_id, settings).response_code == 500
    first, second = attempts(conn)
    assert (first["status"], first["response_code"], first["error"]) == ("failed", 500, "HTTP 500")
    assert (second["status"], second["attempt"]) == ("pending", 2)
    assert _delay(second, first) == retry_delay(1, settings) == settings.webhook_retry_base_seconds

    sent = []
    assert requeue_webhook_attempts(pool, settings, sent.append) == 0  # not due yet
    _make_due(conn)
    assert requeue_webhook_attempts(pool, settings, sent.append) == 1
    assert sent == [second["id"]]
    assert deliver(pool, second["id"], settings).response_code == 503
    third = attempts(conn)[2]
    assert third["attempt"] == 3
    assert _delay(third, attempts(conn)[1]) == 2 * settings.webhook_retry_base_seconds

    _make_due(conn)
    requeue_webhook_attempts(pool, settings, sent.append)
    assert deliver(pool, third["id"], settings).ok
    assert [a["status"] for a in attempts(conn)] == ["failed", "failed", "success"]
    counters = hook_row(conn, hook["id"])
    assert (
        counters["trigger_count"],
        counters["success_count"],
        counters["failure_count"],
        counters["consecutive_failures"],
    ) == (3, 1, 2, 0)
    assert counters["last_failure_at"] is not None and counters["last_success_at"] is not None
    bodies = {json.loads(h.body)["id"] for h in http_receiver.hits}
    assert len(bodies) == 1  # the same event id on every attempt


def test_retries_stop_after_the_configured_number_of_attempts(
    pool, conn, org, settings, http_receiver
):
    settings = settings.with_overrides(webhook_max_attempts=2)
    subscribe(conn, org.org_id, settings, http_receiver)
    http_receiver.answer_next(500, 500, 500)
    [delivery_id] = raise_event(pool, org.org_id)
    deliver(pool, delivery_id, settings)
    deliver(pool, attempts(conn)[1]["id"], settings)
    assert [(a["attempt"], a["status"]) for a in attempts(conn)] == [(1, "failed"), (2, "failed")]


def test_a_subscription_failing_too_often_in_a_row_is_disabled_and_says_why(
    pool, conn, org, settings, http_receiver
):
    settings = settings.with_overrides(webhook_disable_after=3)
    hook = subscribe(conn, org.org_id, settings, http_receiver)
    http_receiver.answer_next(500, 500, 200, 500, 500, 500)
    ids = [raise_event(pool, org.org_id, key=f"k{n}")[0] for n in range(6)]
    for delivery_id in ids[:5]:
        deliver(pool, delivery_id, settings)
    assert hook_row(conn, hook["id"])["is_active"] is True  # the success reset the count

    deliver(pool, ids[5], settings)

    row = hook_row(conn, hook["id"])
    assert row["is_active"] is False
    assert row["consecutive_failures"] == 3
    assert row["disabled_reason"].startswith("disabled after 3 consecutive failures")
    pending = [a for a in attempts(conn) if a["status"] == "pending"]
    assert pending == []  # scheduled retries are dropped
    assert raise_event(pool, org.org_id, key="after") == []


def test_a_url_refused_by_the_ssrf_rules_fails_without_retry(
    pool, conn, org, settings, http_receiver
):
    hook = subscribe(conn, org.org_id, settings, http_receiver)
    [delivery_id] = raise_event(pool, org.org_id)
    result = deliver(pool, delivery_id, settings.with_overrides(fetch_allow_private=False))
    assert not result.ok and "not a public address" in result.error
    assert [a["status"] for a in attempts(conn)] == ["failed"]
    assert http_receiver.hits == []
    assert hook_row(conn, hook["id"])["failure_count"] == 1


def test_an_unreachable_receiver_is_a_failed_attempt_with_a_retry(pool, conn, org, settings):
    from tests.conftest import free_port

    webhooks.create(
        conn,
        org.org_id,
        f"http://127.0.0.1:{free_port()}/gone",
        ["email.received"],
        crypto.encrypt(settings.secret_key, SECRET),
        True,
    )
    [delivery_id] = raise_event(pool, org.org_id)
    result = deliver(pool, delivery_id, settings.with_overrides(webhook_timeout_seconds=2))
    assert result.response_code is None and "ConnectError" in result.error
    assert [a["status"] for a in attempts(conn)] == ["failed", "pending"]


def test_a_redelivered_job_does_not_deliver_twice(pool, conn, org, settings, http_receiver):
    subscribe(conn, org.org_id, settings, http_receiver)
    [delivery_id] = raise_event(pool, org.org_id)
    assert deliver(pool, delivery_id, settings).ok
    assert deliver(pool, delivery_id, settings) is None
    assert len(http_receiver.hits) == 1


def test_an_abandoned_attempt_is_handed_out_again_after_its_lease(
    pool, conn, org, settings, http_receiver
):
    from workers.scheduler import requeue_webhook_attempts

    subscribe(conn, org.org_id, settings, http_receiver)
    [delivery_id] = raise_event(pool, org.org_id)
    with pool.connection() as c, c.transaction():
        assert webhooks.claim(c, delivery_id, 300) is not None  # the worker then died
    sent = []
    assert requeue_webhook_attempts(pool, settings, sent.append) == 0
    _make_due(conn)
    assert requeue_webhook_attempts(pool, settings, sent.append) == 1
    assert deliver(pool, delivery_id, settings).ok


def test_a_first_attempt_whose_job_was_lost_is_picked_up_by_the_scheduler(
    pool, conn, org, settings, http_receiver
):
    from workers.scheduler import requeue_webhook_attempts

    subscribe(conn, org.org_id, settings, http_receiver)
    [delivery_id] = raise_event(pool, org.org_id)
    sent = []
    assert requeue_webhook_attempts(pool, settings, sent.append) == 0  # its job may still run
    _make_due(conn)
    requeue_webhook_attempts(pool, settings, sent.append)
    assert sent == [delivery_id]


def test_the_worker_delivers_through_the_broker(pool, conn, org, settings, http_receiver, worker):
    from workers.webhooks import deliver_webhook

    subscribe(conn, org.org_id, settings, http_receiver)
    [delivery_id] = raise_event(pool, org.org_id)
    deliver_webhook.send(delivery_id)
    deliver_webhook.send(delivery_id)
    wait_for(lambda: attempts(conn)[0]["status"] == "success")
    worker.join()
    assert len(http_receiver.hits) == 1 and http_receiver.hits[0].signature_valid


def _delay(later, earlier):
    seconds = (later["next_attempt_at"] - earlier["created_at"]) / timedelta(seconds=1)
    return round(seconds)


def _make_due(conn):
    conn.execute(
        """UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 second'
           WHERE status IN ('pending', 'delivering')"""
    )
