"""Read queries behind the emails API (always scoped to one organization).

Full-text search uses ``messages.search_vector`` (migration 0300): the ``simple`` text-search
configuration over subject (weight A) and body (weight B), queried with
``websearch_to_tsquery``; see the README's design choices for why ``simple``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from pipeline.db import Connection

LIST_COLUMNS = """id, mailbox_id, imap_uid, message_id, folder, from_address, from_name,
    to_addresses, cc_addresses, reply_to, subject, received_at, read_at, is_read, is_starred,
    is_archived, has_attachments, attachment_count, state, ticket_id, channel, created_at,
    updated_at"""

SORT_COLUMNS = {"received_at": "received_at", "subject": "subject", "from_address": "from_address"}
SEARCH_QUERY = "websearch_to_tsquery('simple', %(search)s)"


@dataclass(frozen=True)
class EmailFilters:
    """The list filters of ``GET /api/emails``; ``None`` means "any"."""

    account_id: int | None = None
    folder: str | None = None
    sender: str | None = None
    subject: str | None = None
    search: str | None = None
    has_attachments: bool | None = None
    is_read: bool | None = None
    is_starred: bool | None = None
    is_archived: bool | None = None
    since: date | None = None
    until: date | None = None
    category_id: int | None = None


def day_after(day: date) -> date | None:
    """The next day, or ``None`` (no bound) after the last representable one."""
    return None if day == date.max else day + timedelta(days=1)


def like_pattern(text: str) -> str:
    """A partial-match ILIKE pattern in which ``%`` and ``_`` from the client match literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _folder_clause(folder: str | None) -> str:
    """Mail that came by SMTP, webhook or API has no IMAP folder and is shown as ``INBOX``
    (the name is case-insensitive in IMAP, RFC 3501 §5.1), so ``INBOX`` selects it too."""
    if folder is not None and folder.upper() == "INBOX":
        return "(folder IS NULL OR upper(folder) = upper(%(folder)s))"
    return "folder = %(folder)s"


def _where(org_id: UUID, f: EmailFilters) -> tuple[str, dict[str, Any]]:
    """The WHERE clause and parameters for ``f`` (every value bound, never interpolated)."""
    params: dict[str, Any] = {"org": org_id}
    clauses = ["org_id = %(org)s"]

    def add(clause: str, name: str, value: Any) -> None:
        if value is not None:
            clauses.append(clause)
            params[name] = value

    add("mailbox_id = %(account)s", "account", f.account_id)
    add(_folder_clause(f.folder), "folder", f.folder)
    add("from_address ILIKE %(sender)s", "sender", f.sender and like_pattern(f.sender))
    add("subject ILIKE %(subject)s", "subject", f.subject and like_pattern(f.subject))
    add(f"search_vector @@ {SEARCH_QUERY}", "search", f.search)
    add("has_attachments = %(has_att)s", "has_att", f.has_attachments)
    add("is_read = %(is_read)s", "is_read", f.is_read)
    add("is_starred = %(is_starred)s", "is_starred", f.is_starred)
    add("is_archived = %(is_archived)s", "is_archived", f.is_archived)
    add("received_at >= %(since)s::date", "since", f.since)
    # ``until`` is a day: mail received during that day is included.
    add("received_at < %(until)s::date", "until", f.until and day_after(f.until))
    add(
        """id IN (SELECT message_id FROM message_categories
                  WHERE org_id = %(org)s AND category_id = %(category)s)""",
        "category",
        f.category_id,
    )
    return " AND ".join(clauses), params


def list_page(
    conn: Connection,
    org_id: UUID,
    page: int,
    per_page: int,
    filters: EmailFilters | None = None,
    sort: str = "received_at",
    order: str = "desc",
) -> tuple[list[dict[str, Any]], int]:
    """One page of an organization's emails matching ``filters``, and the total count."""
    where, params = _where(org_id, filters or EmailFilters())
    direction = "ASC" if order == "asc" else "DESC"
    column = SORT_COLUMNS[sort]
    rows = conn.execute(
        f"""SELECT {LIST_COLUMNS} FROM messages WHERE {where}
            ORDER BY {column} {direction} NULLS LAST, id {direction}
            LIMIT %(limit)s OFFSET %(offset)s""",
        {**params, "limit": per_page, "offset": (page - 1) * per_page},
    ).fetchall()
    total = conn.execute(f"SELECT count(*) AS n FROM messages WHERE {where}", params).fetchone()
    return rows, total["n"]


def search(conn: Connection, org_id: UUID, text: str, limit: int) -> list[dict[str, Any]]:
    """The best ``limit`` matches for ``text``, ranked (subject hits weigh more than body)."""
    return conn.execute(
        f"""SELECT {LIST_COLUMNS}, ts_rank_cd(search_vector, {SEARCH_QUERY}) AS rank
            FROM messages WHERE org_id = %(org)s AND search_vector @@ {SEARCH_QUERY}
            ORDER BY rank DESC, received_at DESC, id DESC LIMIT %(limit)s""",
        {"org": org_id, "search": text, "limit": limit},
    ).fetchall()


def get(conn: Connection, org_id: UUID, message_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"""SELECT {LIST_COLUMNS}, body_text, body_html, new_text, headers, analysis,
                   reply_to_closed_ticket, notified, last_error, envelope_from, envelope_to,
                   in_reply_to, "references", raw_size
            FROM messages WHERE org_id = %s AND id = %s""",
        (org_id, message_id),
    ).fetchone()


def attachments_of(conn: Connection, org_id: UUID, message_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT id, message_id, filename, original_filename, mime_type, size, is_inline,
                  content_id, created_at, blob_sha256
           FROM attachments WHERE org_id = %s AND message_id = %s ORDER BY position""",
        (org_id, message_id),
    ).fetchall()


def attachment(
    conn: Connection, org_id: UUID, attachment_id: int, message_id: int | None = None
) -> dict[str, Any] | None:
    return conn.execute(
        """SELECT a.id, a.message_id, a.filename, a.original_filename, a.mime_type, a.size,
                  a.is_inline, a.content_id, a.created_at, a.blob_sha256
           FROM attachments a WHERE a.org_id = %s AND a.id = %s
             AND (%s::bigint IS NULL OR a.message_id = %s::bigint)""",
        (org_id, attachment_id, message_id, message_id),
    ).fetchone()


def categories_of(conn: Connection, org_id: UUID, message_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        """SELECT c.id, c.name, c.slug FROM message_categories mc
           JOIN categories c ON c.id = mc.category_id
           WHERE mc.org_id = %s AND mc.message_id = %s ORDER BY c.position, c.id""",
        (org_id, message_id),
    ).fetchall()
