"""Request schemas and JSON shapes of the ``002_…`` mail accounts (Intake's IMAP mailboxes).

The password is write-only: no shape here has a field for it, only ``has_password``.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from web.serialize import iso

Encryption = Literal["ssl", "tls", "none"]
EMAIL_PATTERN = r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
TEXT_PATTERN = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
HOST_PATTERN = r"^[^\s/@\x00]+$"
# CR, LF or NUL in a credential or folder name would end the IMAP command line early.
LINE_PATTERN = r"^[^\r\n\x00]*$"


class AccountFields(BaseModel):
    """The settings shared by create and update (all optional here)."""

    name: str | None = Field(None, min_length=2, max_length=100, pattern=TEXT_PATTERN)
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    host: str | None = Field(None, min_length=1, max_length=255, pattern=HOST_PATTERN)
    port: int | None = Field(None, ge=1, le=65535)
    username: str | None = Field(None, min_length=1, max_length=255, pattern=LINE_PATTERN)
    password: str | None = Field(None, max_length=1024, pattern=LINE_PATTERN)
    encryption: Encryption | None = None
    is_active: bool | None = None
    sync_folders: list[str] | None = Field(None, min_length=1, max_length=100)
    mark_seen: bool | None = None
    test_connection: bool = False

    @field_validator("sync_folders")
    @classmethod
    def _folder_names(cls, folders: list[str] | None) -> list[str] | None:
        if folders is None:
            return None
        if any(not f.strip() or len(f) > 255 or set(f) & {"\r", "\n", "\x00"} for f in folders):
            raise ValueError("folder names must be 1-255 characters without CR, LF or NUL")
        return list(dict.fromkeys(folders))  # one sync job per folder, even if listed twice

    def settings(self) -> dict[str, Any]:
        """The fields that were given, minus the password and the test flag."""
        given = self.model_dump(exclude_unset=True, exclude={"password", "test_connection"})
        return {k: v for k, v in given.items() if v is not None}


class AccountCreate(AccountFields):
    name: str = Field(min_length=2, max_length=100, pattern=TEXT_PATTERN)
    email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    host: str = Field(min_length=1, max_length=255, pattern=HOST_PATTERN)
    port: int = Field(ge=1, le=65535)
    username: str = Field(min_length=1, max_length=255, pattern=LINE_PATTERN)
    password: str = Field(min_length=1, max_length=1024, pattern=LINE_PATTERN)
    encryption: Encryption = "ssl"
    is_active: bool = False
    sync_folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1, max_length=100)
    mark_seen: bool = False

    def settings(self) -> dict[str, Any]:
        return self.model_dump(exclude={"password", "test_connection"})


class AccountUpdate(AccountFields):
    """Every field optional; an absent or empty ``password`` leaves the stored one alone."""


class AccountListQuery(BaseModel):
    include_stats: bool = False


class SyncRequestBody(BaseModel):
    folder: str | None = Field(None, min_length=1, max_length=255, pattern=LINE_PATTERN)
    full_resync: bool = False
    since_date: date | None = Field(None, description="Y-m-d")

    @field_validator("since_date", mode="before")
    @classmethod
    def _ymd(cls, value: object) -> object:
        if value is None or isinstance(value, date):
            return value
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError("must be a date as Y-m-d")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date as Y-m-d") from None


class DeleteQuery(BaseModel):
    delete_emails: bool = False


def account(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["address"],
        "host": row["imap_host"],
        "port": row["imap_port"],
        "username": row["imap_username"],
        "encryption": row["imap_encryption"],
        "has_password": row["has_password"],
        "is_active": row["is_active"],
        "sync_folders": list(row["sync_folders"]),
        "mark_seen": row["mark_seen"],
        "last_sync_at": iso(row["last_sync_at"]),
        "last_error": row["last_error"],
        "last_error_at": iso(row["last_error_at"]),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def stats(totals: dict[str, Any], folders: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed's stats shape, plus the per-folder sync state Intake keeps."""
    return {
        "total_emails": totals["total"],
        "unread_emails": totals["unread"],
        "with_attachments": totals["with_attachments"],
        "by_folder": [{"folder": f["folder"], "count": f["count"]} for f in totals["by_folder"]],
        "latest_email_at": iso(totals["latest"]),
        "oldest_email_at": iso(totals["oldest"]),
        "sync": [
            {
                "folder": f["folder"],
                "uidvalidity": f["uidvalidity"],
                "last_uid": f["last_uid"],
                "last_synced_at": iso(f["last_synced_at"]),
                "last_error": f["last_error"],
                "skipped_messages": f["skipped"],
            }
            for f in folders
        ],
    }
