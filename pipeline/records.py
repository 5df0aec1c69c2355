"""Frozen records for the rows the stages work on, loaded with psycopg's ``class_row``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID


def columns(record: type) -> str:
    """The SELECT list for ``record``: exactly its fields, in order."""
    return ", ".join(f'"{f.name}"' for f in fields(record))


@dataclass(frozen=True)
class Message:
    id: int
    org_id: UUID
    mailbox_id: int | None
    channel: str
    folder: str | None
    imap_uid: int | None
    provider_message_id: str | None
    raw_sha256: str
    raw_size: int
    envelope_from: str | None
    envelope_to: list[str]
    state: str
    stage: str | None
    last_error: str | None
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str | None
    from_name: str | None
    to_addresses: list[dict[str, Any]]
    cc_addresses: list[dict[str, Any]]
    reply_to: str | None
    subject: str | None
    body_text: str | None
    body_html: str | None
    new_text: str | None
    headers: list[list[str]]
    sent_at: datetime | None
    received_at: datetime
    ticket_id: int | None
    reply_to_closed_ticket: bool
    analysis: dict[str, Any]
    notified: bool
    dedupe_key: str | None
    duplicate_of: int | None
    has_attachments: bool
    attachment_count: int

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), as parsed."""
        wanted = name.lower()
        return next((v for n, v in self.headers if n.lower() == wanted), None)

    def thread_ids(self) -> list[str]:
        """The Message-IDs this mail answers, nearest first (In-Reply-To, then References)."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return [i for i in ids if i != self.message_id]


@dataclass(frozen=True)
class Mailbox:
    id: int
    org_id: UUID
    name: str
    address: str
    aliases: list[str] = field(default_factory=list)
    inbox_name: str = "Support"
    is_active: bool = False


@dataclass(frozen=True)
class ImapAccount:
    """A mailbox's IMAP settings with its password decrypted (never printed: ``repr=False``)."""

    mailbox: Mailbox
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    encryption: str = "ssl"
    sync_folders: list[str] = field(default_factory=lambda: ["INBOX"])
    mark_seen: bool = False


@dataclass(frozen=True)
class Envelope:
    """What the transport says about a message, as opposed to its headers."""

    mail_from: str | None
    rcpt_tos: tuple[str, ...]
