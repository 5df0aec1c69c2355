"""Content-addressed blob store in PostgreSQL (SHA-256 of the bytes is the key).

Every web and worker process on every machine sees the same bytes; identical content
is stored once. An S3-compatible store can replace these three functions later.
"""

from __future__ import annotations

import hashlib

from pipeline.db import Connection


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put(conn: Connection, data: bytes) -> str:
    """Store ``data`` (idempotent) and return its SHA-256."""
    digest = sha256_hex(data)
    conn.execute(
        "INSERT INTO blobs (sha256, size, data) VALUES (%s, %s, %b) ON CONFLICT DO NOTHING",
        (digest, len(data), data),
    )
    return digest


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
