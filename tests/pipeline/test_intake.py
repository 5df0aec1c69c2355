"""The one door: raw bytes and one ``received`` row, in one transaction."""

from tests.helpers import accept, mfs

RAW = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: Printer on fire
    Message-ID: <fire-1@example.org>

    It is on fire.
""")


def test_accept_raw_stores_blob_and_received_row(pool, conn, mailbox):
    message_id = accept(pool, RAW, mailbox)
    row = conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()
    assert row["state"] == "received"
    assert row["stage"] == "parse"
    assert row["org_id"] == mailbox.org_id
    assert row["envelope_from"] == "sender@example.org"
    assert row["envelope_to"] == ["support@example.com"]
    blob = conn.execute("SELECT data FROM blobs WHERE sha256 = %s", (row["raw_sha256"],)).fetchone()
    assert bytes(blob["data"]) == RAW


def test_identical_raw_bytes_are_stored_once(pool, conn, mailbox):
    accept(pool, RAW, mailbox)
    accept(pool, RAW, mailbox)
    assert conn.execute("SELECT count(*) AS n FROM blobs").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 2


def test_nothing_is_stored_when_the_transaction_fails(pool, conn, mailbox):
    from pipeline.intake import accept_raw
    from pipeline.records import Envelope

    try:
        with pool.connection() as c, c.transaction():
            accept_raw(c, RAW, Envelope(None, ("support@example.com",)), "smtp", mailbox)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0
