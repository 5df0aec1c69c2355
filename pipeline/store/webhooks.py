"""SQL for webhook subscriptions and their delivery attempts (one ``webhook_deliveries`` row
per attempt), the counters, and disabling a subscription that keeps failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from pipeline.db import Connection

FIELDS = ("url", "events", "secret_enc", "is_active")


def create(
    conn: Connection, org_id: UUID, url: str, events: list[str], secret_enc: bytes, is_active: bool
) -> dict[str, Any]:
    row = conn.execute(
        """INSERT INTO webhooks (org_id, url, events, secret_enc, is_active)
           VALUES (%s, %s, %s, %s, %s) RETURNING *""",
        (org_id, url, events, secret_enc, is_active),
    ).fetchone()
    assert row is not None
    return row


def list_all(conn: Connection, org_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT * FROM webhooks WHERE org_id = %s ORDER BY id", (org_id,)
    ).fetchall()


def get(conn: Connection, org_id: UUID, webhook_id: int) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT * FROM webhooks WHERE org_id = %s AND id = %s", (org_id, webhook_id)
    ).fetchone()


def update(
    conn: Connection, org_id: UUID, webhook_id: int, values: dict[str, Any]
) -> dict[str, Any] | None:
    """Change the given fields; turning a subscription on again forgets why it was disabled."""
    assignments = [f'"{name}" = %({name})s' for name in values if name in FIELDS]
    if values.get("is_active"):
        assignments += ["consecutive_failures = 0", "disabled_reason = NULL"]
    assignments.append("updated_at = now()")
    return conn.execute(
        f"""UPDATE webhooks SET {", ".join(assignments)}
            WHERE org_id = %(_org)s AND id = %(_id)s RETURNING *""",
        {**values, "_org": org_id, "_id": webhook_id},
    ).fetchone()


def delete(conn: Connection, org_id: UUID, webhook_id: int) -> bool:
    cur = conn.execute("DELETE FROM webhooks WHERE org_id = %s AND id = %s", (org_id, webhook_id))
    return cur.rowcount == 1


def subscribed_events(conn: Connection, org_id: UUID) -> set[str]:
    """The event types some active subscription of ``org_id`` wants (cheap pre-check)."""
    row = conn.execute(
        """SELECT COALESCE(array_agg(DISTINCT e), '{}') AS events
           FROM webhooks, unnest(events) e WHERE org_id = %s AND is_active""",
        (org_id,),
    ).fetchone()
    return set(row["events"]) if row else set()


@dataclass(frozen=True)
class Attempt:
    """A claimed delivery attempt with what it needs: the subscription and the event."""

    id: int
    org_id: UUID
    webhook_id: int
    event_id: UUID
    attempt: int
    url: str
    secret_enc: bytes | None
    is_active: bool
    event_type: str
    payload: dict[str, Any]
    event_created_at: datetime


def claim(conn: Connection, delivery_id: int, lease_seconds: float) -> Attempt | None:
    """Take pending attempt ``delivery_id``; ``None`` when it is not pending (done, or being
    delivered by another worker). ``next_attempt_at`` becomes the lease after which the
    scheduler hands an abandoned attempt out again."""
    row = conn.execute(
        """UPDATE webhook_deliveries d SET status = 'delivering',
                  next_attempt_at = now() + make_interval(secs => %s)
           FROM webhooks w, webhook_events e
           WHERE d.id = %s AND d.status = 'pending' AND w.id = d.webhook_id AND e.id = d.event_id
           RETURNING d.id, d.org_id, d.webhook_id, d.event_id, d.attempt, w.url, w.secret_enc,
                     w.is_active, e.type AS event_type, e.payload,
                     e.created_at AS event_created_at""",
        (lease_seconds, delivery_id),
    ).fetchone()
    return Attempt(**row) if row else None


@dataclass(frozen=True)
class Result:
    ok: bool
    response_code: int | None
    response_body: str | None
    latency_ms: int | None
    error: str | None


def record_attempt(conn: Connection, delivery_id: int, result: Result) -> None:
    conn.execute(
        """UPDATE webhook_deliveries SET status = %s, response_code = %s, response_body = %s,
                  latency_ms = %s, error = %s, next_attempt_at = NULL
           WHERE id = %s""",
        (
            "success" if result.ok else "failed",
            result.response_code,
            (result.response_body or "")[:1000] or None,
            result.latency_ms,
            (result.error or "")[:1000] or None,
            delivery_id,
        ),
    )


def schedule_retry(conn: Connection, attempt: Attempt, delay_seconds: float) -> int:
    """The next attempt of the same event to the same subscription, due after the delay."""
    row = conn.execute(
        """INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, attempt, status,
                                           next_attempt_at)
           VALUES (%s, %s, %s, %s, 'pending', now() + make_interval(secs => %s)) RETURNING id""",
        (attempt.org_id, attempt.webhook_id, attempt.event_id, attempt.attempt + 1, delay_seconds),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def count_attempt(
    conn: Connection, webhook_id: int, ok: bool, disable_after: int, reason: str
) -> bool:
    """Update the counters; disable the subscription (returning ``True``) once it has failed
    ``disable_after`` times in a row, and drop its pending attempts."""
    row = conn.execute(
        """UPDATE webhooks SET trigger_count = trigger_count + 1, last_triggered_at = now(),
                  success_count = success_count + %(ok)s::int,
                  failure_count = failure_count + (NOT %(ok)s)::int,
                  last_success_at = CASE WHEN %(ok)s THEN now() ELSE last_success_at END,
                  last_failure_at = CASE WHEN %(ok)s THEN last_failure_at ELSE now() END,
                  consecutive_failures = CASE WHEN %(ok)s THEN 0 ELSE consecutive_failures + 1 END,
                  updated_at = now()
           WHERE id = %(id)s RETURNING is_active, consecutive_failures""",
        {"ok": ok, "id": webhook_id},
    ).fetchone()
    if ok or row is None or not row["is_active"] or row["consecutive_failures"] < disable_after:
        return False
    conn.execute(
        """UPDATE webhooks SET is_active = false, disabled_reason = %s WHERE id = %s""",
        (
            f"disabled after {row['consecutive_failures']} consecutive failures; last: {reason}"[
                :500
            ],
            webhook_id,
        ),
    )
    conn.execute(
        """UPDATE webhook_deliveries SET status = 'failed', error = 'subscription disabled',
                  next_attempt_at = NULL
           WHERE webhook_id = %s AND status = 'pending'""",
        (webhook_id,),
    )
    return True


def due(conn: Connection, requeue_after_seconds: float, limit: int = 500) -> list[int]:
    """Attempts to hand to a worker now: pending ones whose time has come (retries, and
    first attempts whose job was lost) and abandoned ones whose lease ran out. Each is
    given ``requeue_after_seconds`` before it can be handed out again."""
    rows = conn.execute(
        """UPDATE webhook_deliveries SET status = 'pending',
                  next_attempt_at = now() + make_interval(secs => %s)
           WHERE id IN (SELECT id FROM webhook_deliveries
                        WHERE status IN ('pending', 'delivering') AND next_attempt_at <= now()
                        ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)
           RETURNING id""",
        (requeue_after_seconds, limit),
    ).fetchall()
    return [r["id"] for r in rows]


def create_test_attempt(conn: Connection, org_id: UUID, webhook_id: int, data: dict) -> int:
    """A ``webhook.test`` event with one pending attempt for ``webhook_id`` only."""
    event = conn.execute(
        """INSERT INTO webhook_events (org_id, type, dedupe_key, payload)
           VALUES (%s, 'webhook.test', 'test:' || gen_random_uuid(), %s) RETURNING id""",
        (org_id, Jsonb(data)),
    ).fetchone()
    assert event is not None
    row = conn.execute(
        """INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, status, next_attempt_at)
           VALUES (%s, %s, %s, 'pending', NULL) RETURNING id""",
        (org_id, webhook_id, event["id"]),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def record_event(
    conn: Connection, org_id: UUID, event_type: str, dedupe_key: str, data: dict[str, Any]
) -> UUID | None:
    """Store an event once per ``dedupe_key``; its id, or ``None`` if it was stored before."""
    row = conn.execute(
        """INSERT INTO webhook_events (org_id, type, dedupe_key, payload)
           VALUES (%s, %s, %s, %s) ON CONFLICT (org_id, dedupe_key) DO NOTHING
           RETURNING id""",
        (org_id, event_type, dedupe_key, Jsonb(data)),
    ).fetchone()
    return row["id"] if row else None


def queue_deliveries(conn: Connection, org_id: UUID, event_id: UUID, event_type: str) -> list[int]:
    """One pending delivery of the event per active subscription to its type; their ids."""
    rows = conn.execute(
        """INSERT INTO webhook_deliveries (org_id, webhook_id, event_id, status)
           SELECT org_id, id, %s, 'pending' FROM webhooks
           WHERE org_id = %s AND is_active AND %s = ANY(events)
           RETURNING id""",
        (event_id, org_id, event_type),
    ).fetchall()
    return [r["id"] for r in rows]
