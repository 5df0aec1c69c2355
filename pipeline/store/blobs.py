"""Content-addressed blob store in PostgreSQL (SHA-256 of the bytes is the key); the one
module that writes ``blobs``.

Every web and worker process on every machine sees the same bytes; identical content
is stored once. An S3-compatible store can replace these three functions later.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pipeline.db import Connection

# Stores bytes ``%(data)b`` (sent in binary; ``%(size)s`` long, SHA-256 ``%(sha)s``) once. Also a CTE body,
# so a row that refers to the blob is written in the same statement.
STORE = """INSERT INTO blobs (sha256, size, data) VALUES (%(sha)s, %(size)s, %(data)b)
    ON CONFLICT DO NOTHING"""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(conn: Connection, data: bytes) -> str:
    """Store ``data`` (idempotent) and return its SHA-256."""
    params = store_params(data)
    conn.execute(STORE, params)
    return params["sha"]


def store_params(data: bytes) -> dict[str, Any]:
    """The parameters of ``STORE`` for ``data``."""
    return {"sha": sha256_hex(data), "size": len(data), "data": data}


def get(conn: Connection, digest: str) -> bytes:
    """Return the bytes of blob ``digest``; raises ``KeyError`` when absent."""
    row = conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (digest,)).fetchone()
    if row is None:
        raise KeyError(digest)
    return bytes(row["data"])


def delete_unreferenced(conn: Connection, digests: list[str]) -> int:
    """Delete those of ``digests`` that no message, attachment, voicemail or sent mail uses."""
    cur = conn.execute(
        """
        DELETE FROM blobs b WHERE b.sha256 = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.raw_sha256 = b.sha256)
          AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.blob_sha256 = b.sha256)
          AND NOT EXISTS (SELECT 1 FROM voicemails v WHERE v.mp3_sha256 = b.sha256)
          AND NOT EXISTS (SELECT 1 FROM sent_mails s WHERE s.raw_sha256 = b.sha256)
        """,
        (digests,),
    )
    return cur.rowcount
