"""The ``data`` of every webhook event, built here and nowhere else.

Whichever module raises an event (a stage, the media actor, an IMAP sync, a provider's
delivery hook), its subscribers see the same fields, the ones the README's "Webhooks"
section lists; ``tests/pipeline/test_event_payloads.py`` pins them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from pipeline.records import Message
from pipeline.store.deliveries import DeliveryEvent

TEST_MESSAGE = "This is a test event from Intake."


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def email(msg: Message) -> dict[str, Any]:
    """``email.received``: the message in the ``002_…`` email field names."""
    return {
        "id": msg.id,
        "account_id": msg.mailbox_id,
        "message_id": msg.message_id,
        "from_address": msg.from_address,
        "from_name": msg.from_name,
        "to_addresses": msg.to_addresses,
        "cc_addresses": msg.cc_addresses,
        "subject": msg.subject,
        "received_at": _utc(msg.received_at),
        "has_attachments": msg.has_attachments,
        "attachment_count": msg.attachment_count,
        "ticket_id": msg.ticket_id,
        "channel": msg.channel,
    }


def ticket(row: dict[str, Any], msg: Message) -> dict[str, Any]:
    """``ticket.created`` / ``ticket.replied``: the ticket (``store.tickets.detail``) and
    the mail that opened or answered it."""
    return {
        "ticket_id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "subject": row["subject"],
        "exchange_count": row["exchange_count"],
        "labels": row["labels"],
        "contact_email": row["contact_email"],
        "email": email(replace(msg, ticket_id=row["id"])),
    }


def email_categorized(
    msg: Message, categories: list[dict[str, Any]], labels: list[str]
) -> dict[str, Any]:
    """``email.categorized``: the categories the mail was put in and the labels picked."""
    return {
        "email_id": msg.id,
        "message_id": msg.message_id,
        "from": msg.from_address,
        "subject": msg.subject,
        "categories": categories,
        "labels": labels,
    }


def voicemail_received(row: dict[str, Any]) -> dict[str, Any]:
    """``voicemail.received``: the voicemail (``store.voicemails.get``), audio or not."""
    return {
        "voicemail_id": row["id"],
        "email_id": row["message_id"],
        "account_id": row["mailbox_id"],
        "caller_number": row["caller_number"],
        "caller_formatted": row["caller_formatted"],
        "receiver_line": row["receiver_line"],
        "duration_seconds": row["duration_seconds"],
        "has_audio": row["has_audio"],
        "audio_error": row["audio_error"],
        "received_at": row["received_at"].isoformat(),
    }


def sync_completed(
    account_id: int,
    folder: str,
    *,
    fetched: int,
    skipped: int,
    uidvalidity: int | None,
    last_uid: int,
    resync: str | None,
) -> dict[str, Any]:
    """``sync.completed``: what one folder sync imported, skipped or resynced."""
    return {
        "account_id": account_id,
        "folder": folder,
        "fetched": fetched,
        "skipped": skipped,
        "uidvalidity": uidvalidity,
        "last_uid": last_uid,
        "resync": resync,
    }


def sync_failed(account_id: int, folder: str, kind: str, error: str) -> dict[str, Any]:
    """``sync.failed``: the folder, the kind of failure and its message."""
    return {"account_id": account_id, "folder": folder, "kind": kind, "error": error}


def delivery(event_id: int, event: DeliveryEvent, sent_mail_id: int | None) -> dict[str, Any]:
    """``delivery.<event>``: a provider's delivery event and the sent mail it concerns."""
    return {
        "id": event_id,
        "event": event.event,
        "provider": event.provider,
        "message_id": event.message_id,
        "sent_mail_id": sent_mail_id,
        "recipient": event.recipient,
        "status_code": event.status_code,
        "diagnostic": event.diagnostic,
        "occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
    }


def webhook_test() -> dict[str, Any]:
    """``webhook.test``: a fixed message, so the endpoint can be checked by hand."""
    return {"message": TEST_MESSAGE}
