"""Turn rows into the API's JSON shapes (the ``002_…`` field names)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 to the second with a ``Z`` (``2024-01-15T10:30:00Z``), exactly the form
    the seed's examples show; sub-second digits would break clients that parse that form."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def headers_dict(pairs: list[list[str]]) -> dict[str, str]:
    """Header pairs to the seed's ``{"Name": "value"}``; a repeated header keeps its first value."""
    result: dict[str, str] = {}
    for name, value in pairs:
        result.setdefault(name, value)
    return result


def attachment(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email_id": row["message_id"],
        "filename": row["filename"],
        "original_filename": row["original_filename"],
        "mime_type": row["mime_type"],
        "file_size": row["size"],
        "is_inline": row["is_inline"],
        "content_id": row["content_id"],
        "created_at": iso(row["created_at"]),
    }


def email_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "account_id": row["mailbox_id"],
        "message_uid": str(row["imap_uid"]) if row["imap_uid"] is not None else None,
        "message_id": row["message_id"],
        "folder": row["folder"] or "INBOX",
        "from_address": row["from_address"],
        "from_name": row["from_name"],
        "to_addresses": row["to_addresses"],
        "cc_addresses": row["cc_addresses"],
        "reply_to": row["reply_to"],
        "subject": row["subject"],
        "received_at": iso(row["received_at"]),
        "read_at": iso(row["read_at"]),
        "is_read": row["is_read"],
        "is_starred": row["is_starred"],
        "is_archived": row["is_archived"],
        "has_attachments": row["has_attachments"],
        "attachment_count": row["attachment_count"],
        "state": row["state"],
        "ticket_id": row["ticket_id"],
        "channel": row["channel"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def email_detail(
    row: dict[str, Any], attachments: list[dict[str, Any]], categories: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        **email_summary(row),
        "body_text": row["body_text"],
        "body_html": row["body_html"],
        "new_text": row["new_text"],
        "headers": headers_dict(row["headers"]),
        "attachments": [
            {k: v for k, v in attachment(a).items() if k not in {"email_id", "created_at"}}
            for a in attachments
        ],
        "categories": [{"id": c["id"], "name": c["name"], "slug": c["slug"]} for c in categories],
        "analysis": row["analysis"],
        "reply_to_closed_ticket": row["reply_to_closed_ticket"],
        "last_error": row["last_error"],
    }


def ticket(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["number"],
        "status": row["status"],
        "subject": row["subject"],
        "mailbox_id": row["mailbox_id"],
        "inbox_name": row.get("inbox_name"),
        "contact": {
            "id": row["contact_id"],
            "email": row.get("contact_email"),
            "name": row.get("contact_name"),
        }
        if row["contact_id"]
        else None,
        "customer_id": row["customer_id"],
        "labels": row["labels"],
        "tags": row["tags"],
        "exchange_count": row["exchange_count"],
        "pending_closure_at": iso(row["pending_closure_at"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
        "latest_updated_at": iso(row["latest_updated_at"]),
    }


def ticket_message(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "from_address": row["from_address"],
        "from_name": row["from_name"],
        "agent_id": row["agent_id"],
        "body_text": row["body_text"],
        "body_html": row["body_html"],
        "email_id": row["message_id"],
        "attachments": row["attachments"],
        "created_at": iso(row["created_at"]),
    }


def email_raw(row: dict[str, Any]) -> dict[str, Any]:
    """``GET /api/emails/{id}/raw``: bodies, the seed's header map, and every header in order
    (``header_list`` keeps repeated headers such as ``Received``)."""
    return {
        "id": row["id"],
        "subject": row["subject"],
        "body_text": row["body_text"],
        "body_html": row["body_html"],
        "headers": headers_dict(row["headers"]),
        "header_list": [{"name": name, "value": value} for name, value in row["headers"]],
        "envelope_from": row["envelope_from"],
        "envelope_to": row["envelope_to"],
        "raw_size": row["raw_size"],
    }


def email_stats(
    totals: dict[str, Any],
    folders: list[dict[str, Any]],
    categories: list[dict[str, Any]],
    days: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        **{k: v for k, v in totals.items() if not k.endswith("_at")},
        "latest_email_at": iso(totals["latest_email_at"]),
        "oldest_email_at": iso(totals["oldest_email_at"]),
        "by_folder": folders,
        "by_category": categories,
        "by_day": [{"date": d["date"].isoformat(), "count": d["count"]} for d in days],
    }


def category_rule(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "category_id": row["category_id"],
        "position": row["position"],
        "field": row["field"],
        "header_name": row["header_name"],
        "operator": row["operator"],
        "value": row["value"],
        "labels": row["labels"],
        "stop_processing": row["stop_processing"],
        "is_active": row["is_active"],
        "created_at": iso(row["created_at"]),
    }


def category(row: dict[str, Any], rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A category; ``email_count`` when counted, ``rules`` when asked for."""
    result = {
        "id": row["id"],
        "name": row["name"],
        "slug": row["slug"],
        "description": row["description"],
        "color": row["color"],
        "is_active": row["is_active"],
        "position": row["position"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if row.get("email_count") is not None:
        result["email_count"] = row["email_count"]
    if rules is not None:
        result["rules"] = [category_rule(r) for r in rules]
    return result


def ticket_detail(row: dict[str, Any]) -> dict[str, Any]:
    """A ticket with what an agent edits: notes, custom fields and assigned agents."""
    return {
        **ticket(row),
        "notes": row["notes"],
        "custom_fields": row["custom_fields"],
        "agent_ids": list(row.get("agent_ids") or []),
        "closed_at": iso(row["closed_at"]),
    }


def tracking_event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "email_id": row["message_id"],
        "agent_id": row["agent_id"],
        "data": row["data"],
        "created_at": iso(row["created_at"]),
    }


def contact(row: dict[str, Any]) -> dict[str, Any]:
    result = {
        "id": row["id"],
        "email": row["email"],
        "name": row["name"],
        "customer_id": row["customer_id"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }
    if "ticket_count" in row:
        result["ticket_count"] = row["ticket_count"]
    return result


def customer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "external_ref": row["external_ref"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def agent(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "name": row["name"],
        "external_id": row["external_id"],
        "is_active": row["is_active"],
        "created_at": iso(row["created_at"]),
    }
