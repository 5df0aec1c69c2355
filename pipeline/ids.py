"""Row ids given as text (path segments, Message-ID-or-id references, loose JSON fields)."""

from __future__ import annotations

#: PostgreSQL ``bigint``: a larger number names no row and would make the query fail.
MAX_ROW_ID = 2**63 - 1


def row_id(text: str) -> int | None:
    """``text`` as a row id when it is ASCII digits within ``bigint``, else ``None``.

    ``str.isdigit`` alone also accepts superscripts and other scripts' digits, which
    ``int`` then refuses or reads as a number the client never wrote."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ROW_ID else None
