"""Every webhook event carries the fields the README's "Webhooks" section documents."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline import event_payloads
from pipeline.store import messages
from pipeline.store.deliveries import DeliveryEvent
from tests.helpers import accept, mfs, run_pipeline
from tests.pipeline.test_notify import FIRST, REPLY, subscribe

EMAIL = {
    "id",
    "account_id",
    "message_id",
    "from_address",
    "from_name",
    "to_addresses",
    "cc_addresses",
    "subject",
    "received_at",
    "has_attachments",
    "attachment_count",
    "ticket_id",
    "channel",
}
TICKET = {
    "ticket_id",
    "number",
    "status",
    "subject",
    "exchange_count",
    "labels",
    "contact_email",
    "email",
}
DOCUMENTED = {
    "email.received": EMAIL,
    "ticket.created": TICKET,
    "ticket.replied": TICKET,
    "email.categorized": {"email_id", "message_id", "from", "subject", "categories", "labels"},
    "voicemail.received": {
        "voicemail_id",
        "email_id",
        "account_id",
        "caller_number",
        "caller_formatted",
        "receiver_line",
        "duration_seconds",
        "has_audio",
        "audio_error",
        "received_at",
    },
    "sync.completed": {
        "account_id",
        "folder",
        "fetched",
        "skipped",
        "uidvalidity",
        "last_uid",
        "resync",
    },
    "sync.failed": {"account_id", "folder", "kind", "error"},
    "delivery.*": {
        "id",
        "event",
        "provider",
        "message_id",
        "sent_mail_id",
        "recipient",
        "status_code",
        "diagnostic",
        "occurred_at",
    },
    "webhook.test": {"message"},
}
NOW = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)


def test_mail_and_ticket_events_carry_their_documented_fields(pool, conn, org, mailbox, settings):
    subscribe(conn, org.org_id, settings)
    for raw in (FIRST, REPLY):
        run_pipeline(pool, accept(pool, raw, mailbox))
    stored = conn.execute("SELECT type, payload FROM webhook_events").fetchall()

    assert sorted(e["type"] for e in stored) == [
        "email.received",
        "email.received",
        "ticket.created",
        "ticket.replied",
    ]
    for event in stored:
        assert set(event["payload"]) == DOCUMENTED[event["type"]]
        if event["type"].startswith("ticket."):
            assert set(event["payload"]["email"]) == EMAIL


def test_categorized_voicemail_sync_delivery_and_test_events_carry_their_documented_fields(
    pool, conn, org, mailbox
):
    message_id = accept(pool, mfs("From: a@example.org\nSubject: Hi\n\nHello.\n"), mailbox)
    run_pipeline(pool, message_id)
    msg = messages.get(conn, org.org_id, message_id)
    voicemail = {key: None for key in ("caller_number", "caller_formatted", "receiver_line")}
    voicemail |= {"id": 1, "message_id": message_id, "mailbox_id": mailbox.id}
    voicemail |= {"duration_seconds": 12, "has_audio": True, "audio_error": None}
    sync = {"fetched": 1, "skipped": 0, "uidvalidity": 7, "last_uid": 3, "resync": None}
    bounce = DeliveryEvent("failed_permanent", "mailgun", "ev-1", "<a@x>", occurred_at=NOW)

    built = {
        "email.categorized": event_payloads.email_categorized(msg, [], []),
        "voicemail.received": event_payloads.voicemail_received(voicemail | {"received_at": NOW}),
        "sync.completed": event_payloads.sync_completed(mailbox.id, "INBOX", **sync),
        "sync.failed": event_payloads.sync_failed(mailbox.id, "INBOX", "auth", "bad password"),
        "delivery.*": event_payloads.delivery(1, bounce, None),
        "webhook.test": event_payloads.webhook_test(),
    }
    assert {kind: set(data) for kind, data in built.items()} == {
        kind: DOCUMENTED[kind] for kind in built
    }
