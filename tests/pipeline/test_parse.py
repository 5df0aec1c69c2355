"""parse: headers, addresses, bodies and attachments from the raw message."""

import base64

from tests.helpers import accept, mfs

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake-image").decode()
PDF = base64.b64encode(b"%PDF-1.4 fake").decode()

MULTIPART = mfs(f"""
    From: =?utf-8?q?Ren=C3=A9e_Dupont?= <Renee@Example.ORG>
    To: Support <support@example.com>, other@example.com
    Cc: boss@example.org
    Reply-To: renee.private@example.org
    Subject: =?utf-8?q?Facture_impay=C3=A9e?=
    Message-ID: <abc-1@example.org>
    In-Reply-To: <prev@intake.local>
    References: <root@intake.local> <prev@intake.local>
    Date: Mon, 15 Jan 2024 10:30:00 +0000
    X-Priority: 1
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="outer"

    --outer
    Content-Type: multipart/related; boundary="rel"

    --rel
    Content-Type: multipart/alternative; boundary="alt"

    --alt
    Content-Type: text/plain; charset=utf-8
    Content-Transfer-Encoding: 8bit

    Bonjour, la facture est impayée.
    --alt
    Content-Type: text/html; charset=utf-8

    <p>Bonjour, la facture est <b>impayée</b>.<img src="cid:logo123"></p>
    --alt--
    --rel
    Content-Type: image/png
    Content-ID: <logo123>
    Content-Disposition: inline
    Content-Transfer-Encoding: base64

    {PNG}
    --rel--
    --outer
    Content-Type: application/pdf; name="Invoice-2024.pdf"
    Content-Disposition: attachment; filename="Invoice-2024.pdf"
    Content-Transfer-Encoding: base64

    {PDF}
    --outer--
""")


def _parsed(pool, conn, mailbox, raw=MULTIPART):
    message_id = accept(pool, raw, mailbox)
    from config import load_settings
    from pipeline.context import StageContext
    from pipeline.runner import run_stage

    run_stage(pool, "parse", message_id, StageContext(load_settings()))
    return conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()


def test_parse_fills_addresses_subject_and_threading_headers(pool, conn, mailbox):
    row = _parsed(pool, conn, mailbox)
    assert row["from_address"] == "renee@example.org"
    assert row["from_name"] == "Renée Dupont"
    assert row["subject"] == "Facture impayée"
    assert row["to_addresses"] == [
        {"email": "support@example.com", "name": "Support"},
        {"email": "other@example.com", "name": ""},
    ]
    assert row["cc_addresses"] == [{"email": "boss@example.org", "name": ""}]
    assert row["reply_to"] == "renee.private@example.org"
    assert row["message_id"] == "<abc-1@example.org>"
    assert row["in_reply_to"] == "<prev@intake.local>"
    assert row["references"] == ["<root@intake.local>", "<prev@intake.local>"]
    assert row["sent_at"].year == 2024
    assert ["X-Priority", "1"] in row["headers"]


def test_parse_keeps_text_and_html_bodies(pool, conn, mailbox):
    row = _parsed(pool, conn, mailbox)
    assert row["body_text"].strip() == "Bonjour, la facture est impayée."
    assert "<b>impayée</b>" in row["body_html"]


def test_parse_stores_attachments_and_inline_images_in_blobs(pool, conn, mailbox):
    row = _parsed(pool, conn, mailbox)
    parts = conn.execute(
        "SELECT * FROM attachments WHERE message_id = %s ORDER BY position", (row["id"],)
    ).fetchall()
    assert [(p["filename"], p["mime_type"], p["is_inline"], p["content_id"]) for p in parts] == [
        ("attachment-3.png", "image/png", True, "logo123"),
        ("Invoice-2024.pdf", "application/pdf", False, None),
    ]
    pdf = conn.execute(
        "SELECT data FROM blobs WHERE sha256 = %s", (parts[1]["blob_sha256"],)
    ).fetchone()
    assert bytes(pdf["data"]) == b"%PDF-1.4 fake"
    assert row["has_attachments"] is True
    assert row["attachment_count"] == 2


def test_parse_survives_a_wrong_charset_label(pool, conn, mailbox):
    raw = (
        b"From: a@example.org\r\nTo: support@example.com\r\nSubject: latin\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9\r\n"
    )
    row = _parsed(pool, conn, mailbox, raw)
    assert row["body_text"].strip() == "café"
    assert row["analysis"]["parse"]["charsets"]["text"] == "cp1252"


def test_parse_runs_twice_changes_nothing(pool, conn, mailbox):
    row = _parsed(pool, conn, mailbox)
    from config import load_settings
    from pipeline.context import StageContext
    from pipeline.runner import run_stage

    assert run_stage(pool, "parse", row["id"], StageContext(load_settings())) is None
    again = conn.execute("SELECT * FROM messages WHERE id = %s", (row["id"],)).fetchone()
    assert again == row
    assert conn.execute("SELECT count(*) AS n FROM attachments").fetchone()["n"] == 2


def _deeply_nested(levels: int) -> bytes:
    head = b"From: a@example.org\r\nSubject: deep\r\nMessage-ID: <deep@example.org>\r\n"
    body = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(levels)
    )
    return head + body + b"Content-Type: text/plain\r\n\r\nbottom\r\n"


def test_unparseable_mail_is_kept_raw_and_failed_without_blocking_others(pool, conn, mailbox):
    import pytest

    from pipeline.errors import PermanentError
    from tests.helpers import run_pipeline

    hopeless = accept(pool, _deeply_nested(300), mailbox)
    empty = accept(pool, b"\r\n\r\n", mailbox)
    fine = accept(pool, MULTIPART, mailbox)
    for message_id in (hopeless, empty):
        with pytest.raises(PermanentError):
            run_pipeline(pool, message_id)
    run_pipeline(pool, fine)
    rows = {
        r["id"]: r
        for r in conn.execute("SELECT id, state, last_error, raw_sha256 FROM messages").fetchall()
    }
    assert rows[hopeless]["state"] == "failed"
    assert "unparseable mail: MIME structure too deep" in rows[hopeless]["last_error"]
    assert rows[empty]["state"] == "failed"
    assert "unparseable mail: empty message" in rows[empty]["last_error"]
    assert rows[fine]["state"] == "done"
    kept = conn.execute(
        "SELECT 1 FROM blobs WHERE sha256 = %s", (rows[hopeless]["raw_sha256"],)
    ).fetchone()
    assert kept is not None


def test_bodies_have_lf_line_endings_and_no_stray_cr(pool, conn, mailbox):
    row = _parsed(pool, conn, mailbox)
    for text in (row["body_text"], row["new_text"], row["body_html"]):
        assert "\r" not in text
    assert row["body_text"] == "Bonjour, la facture est impayée."


def test_text_stored_with_crlf_before_the_rule_is_rewritten_by_its_migration(pool, conn, mailbox):
    from pipeline.migrate import MIGRATIONS

    _parsed(pool, conn, mailbox)
    conn.execute(
        """UPDATE messages SET body_text = E'Hello,\\r\\n\\r\\nabout the printer.\\r',
                  new_text = E'Hello,\\r\\n', body_html = E'<p>a</p>\\r\\n'"""
    )
    updated_at = conn.execute("SELECT updated_at FROM messages").fetchone()["updated_at"]
    raw_before = conn.execute("SELECT data FROM blobs ORDER BY sha256").fetchall()
    conn.execute((MIGRATIONS / "0631_text_line_endings.sql").read_text())
    row = conn.execute("SELECT body_text, new_text, body_html, updated_at FROM messages").fetchone()
    assert row["body_text"] == "Hello,\n\nabout the printer."
    assert row["new_text"] == "Hello,\n"
    assert row["body_html"] == "<p>a</p>\n"
    assert row["updated_at"] == updated_at
    assert conn.execute("SELECT data FROM blobs ORDER BY sha256").fetchall() == raw_before
