"""Real-world oddities, one ``tests/data/*.eml`` per quirk, through the whole pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.mail import mime
from tests.helpers import accept, run_pipeline

DATA = Path(__file__).resolve().parent.parent / "data"


def _through_pipeline(pool, conn, mailbox, name: str) -> dict:
    message_id = accept(pool, (DATA / name).read_bytes(), mailbox)
    run_pipeline(pool, message_id)
    return conn.execute("SELECT * FROM messages WHERE id = %s", (message_id,)).fetchone()


def _attachments(conn, row) -> list[dict]:
    return conn.execute(
        """SELECT a.*, b.data FROM attachments a JOIN blobs b ON b.sha256 = a.blob_sha256
           WHERE message_id = %s ORDER BY position""",
        (row["id"],),
    ).fetchall()


def test_a_utf8_label_on_cp1252_bytes_is_decoded_as_cp1252_and_recorded(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "wrong-charset-label.eml")
    assert row["state"] == "done"
    assert "décembre est erronée : 120 €" in row["body_text"]
    assert row["analysis"]["parse"]["charset_fallbacks"] == [
        {"part": "text", "declared": "utf-8", "used": "cp1252"}
    ]


def test_an_unknown_charset_name_falls_back_and_is_recorded(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "unknown-charset.eml")
    assert row["body_text"].strip() == "¿Puede ayudarme? Gracias, señor."
    assert row["analysis"]["parse"]["charsets"] == {"text": "cp1252"}
    assert row["analysis"]["parse"]["charset_fallbacks"][0]["declared"] == "x-unknown-8bit"


def test_raw_8bit_headers_are_read_as_latin1_not_replacement_characters(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "undeclared-8bit-headers.eml")
    assert row["subject"] == "Grüße aus Köln"
    assert row["from_name"] == "Renée Müller"


def test_malformed_encoded_words_are_kept_literally_and_good_ones_decoded(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "malformed-encoded-words.eml")
    # unknown charset decoded by fallback; broken base64 kept; a character split
    # across two encoded words joined back together
    assert row["subject"] == "café and =?utf-8?B?not*base64!!?= and naïve"
    assert row["from_address"] == "broken@example.org"
    assert row["state"] == "done"


def test_a_multipart_without_boundary_is_split_on_the_boundary_its_body_uses(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "missing-boundary.eml")
    assert row["body_text"].strip() == "The printer on floor 3 is jammed."
    assert [a["filename"] for a in _attachments(conn, row)] == ["jam.pdf"]
    assert row["analysis"]["parse"]["boundary_repaired"] is True


def test_a_declared_boundary_that_the_body_never_uses_is_repaired(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "wrong-boundary.eml")
    assert row["body_text"].strip() == "Plain version of the request."
    assert "HTML version" in row["body_html"]


def test_a_nested_message_is_one_eml_attachment_with_its_own_attachments_inside(
    pool, conn, mailbox
):
    row = _through_pipeline(pool, conn, mailbox, "nested-rfc822.eml")
    parts = _attachments(conn, row)
    assert [(p["filename"], p["mime_type"]) for p in parts] == [
        ("Contract question.eml", "message/rfc822")
    ]
    assert b"Is clause 4 still valid?" in bytes(parts[0]["data"])
    assert row["body_text"].strip() == "Please look at the forwarded mail from our customer."
    assert row["analysis"]["parse"]["nested_messages"] == 1


def test_a_mail_that_only_forwards_a_message_takes_its_body_from_it(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "forwarded-as-attachment-only.eml")
    assert row["body_text"].strip() == "I cannot log in since this morning."
    assert row["analysis"]["parse"]["body_source"] == "nested_message"


def test_winmail_dat_is_opened_into_the_attachments_it_carries(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "winmail-dat.eml")
    parts = _attachments(conn, row)
    assert [(p["filename"], p["mime_type"], bytes(p["data"])) for p in parts] == [
        ("report.pdf", "application/pdf", b"%PDF-1.4 quarterly report"),
        ("photo.png", "image/png", b"\x89PNG\r\n\x1a\nphoto"),
    ]
    assert row["analysis"]["parse"]["tnef"] == {
        "readable": True,
        "files": ["report.pdf", "photo.png"],
    }


def test_an_image_referenced_by_content_id_is_inline_even_if_labelled_attachment(
    pool, conn, mailbox
):
    row = _through_pipeline(pool, conn, mailbox, "inline-image-by-content-id.eml")
    [logo] = _attachments(conn, row)
    assert (logo["filename"], logo["is_inline"], logo["content_id"]) == (
        "logo.png",
        True,
        "logo@example.org",
    )
    assert 'src="cid:logo@example.org"' in row["body_html"]


def test_a_message_with_no_body_at_all_still_becomes_a_ticket(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "no-body.eml")
    assert row["state"] == "done"
    assert not row["body_text"]
    assert row["body_html"] is None
    assert row["ticket_id"] is not None


def test_html_only_mail_gets_laid_out_text_without_scripts_or_styles(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "html-only.eml")
    text = row["body_text"]
    assert "New request" in text
    assert "Name   Zoë" in text
    assert "* first item" in text
    assert "alert" not in text and "color" not in text
    assert row["analysis"]["parse"]["body_source"] == "html"


def test_nul_bytes_never_reach_postgresql(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "nul-bytes.eml")
    assert row["state"] == "done"
    assert row["subject"] == "has a  NUL"
    assert row["body_text"].strip() == "line one continues"


def test_a_nul_in_a_parameter_charset_that_breaks_the_stdlib_parser_is_survived(
    pool, conn, mailbox
):
    row = _through_pipeline(pool, conn, mailbox, "nul-in-rfc2231-parameter.eml")
    assert row["state"] == "done"
    assert row["body_text"].strip() == "Still readable."
    assert row["analysis"]["parse"]["nul_bytes_removed"] is True


def _new_text(pool, conn, mailbox, name: str) -> tuple[str, str]:
    row = _through_pipeline(pool, conn, mailbox, name)
    return row["new_text"], row["body_text"]


def test_gmail_reply_new_text_drops_the_quoted_history_but_keeps_the_full_body(pool, conn, mailbox):
    new, full = _new_text(pool, conn, mailbox, "reply-gmail.eml")
    assert new == "Thanks, that fixed it."
    assert "Did you try restarting the router?" in full


def test_outlook_reply_new_text_drops_the_header_block_and_signature(pool, conn, mailbox):
    new, full = _new_text(pool, conn, mailbox, "reply-outlook.eml")
    assert new == "Works now, thank you."
    assert "John Smith" in full


def test_apple_mail_reply_new_text_drops_sent_from_my_iphone_and_the_quote(pool, conn, mailbox):
    new, _ = _new_text(pool, conn, mailbox, "reply-apple-mail.eml")
    assert new == "Yes, it works again."


def test_thunderbird_reply_new_text_drops_the_dash_dash_signature(pool, conn, mailbox):
    new, _ = _new_text(pool, conn, mailbox, "reply-thunderbird.eml")
    assert new == "Fixed after the restart."


def test_french_reply_new_text_stops_at_a_ecrit(pool, conn, mailbox):
    new, _ = _new_text(pool, conn, mailbox, "reply-french.eml")
    assert new == "Merci, c'est réglé."


def test_german_reply_new_text_stops_at_schrieb(pool, conn, mailbox):
    new, _ = _new_text(pool, conn, mailbox, "reply-german.eml")
    assert new == "Danke, jetzt geht es wieder."


def test_spanish_reply_new_text_stops_at_escribio(pool, conn, mailbox):
    new, _ = _new_text(pool, conn, mailbox, "reply-spanish.eml")
    assert new == "Gracias, ya funciona."


def test_an_html_only_reply_gets_its_new_text_from_the_converted_html(pool, conn, mailbox):
    new, full = _new_text(pool, conn, mailbox, "reply-html-only-gmail.eml")
    assert new == "Thanks, fixed."
    assert "Did you try restarting the router?" in full


def test_a_delivery_status_notification_is_filtered_as_a_bounce(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "dsn-5.1.1.eml")
    assert row["state"] == "filtered"
    assert row["analysis"]["filter"]["reason"] == "bounce"
    assert row["ticket_id"] is None


def test_an_exchange_out_of_office_is_filtered_with_every_signal_recorded(pool, conn, mailbox):
    row = _through_pipeline(pool, conn, mailbox, "out-of-office-exchange.eml")
    assert row["state"] == "filtered"
    rules = [hit["rule"] for hit in row["analysis"]["filter"]["hits"]]
    assert rules == ["auto_submitted", "autoreply_header", "out_of_office_subject"]


@pytest.mark.parametrize(
    "name",
    [
        "reply-apple-mail.eml",
        "reply-french.eml",
        "reply-german.eml",
        "reply-gmail.eml",
        "reply-outlook.eml",
        "reply-spanish.eml",
        "reply-thunderbird.eml",
    ],
)
def test_reply_new_text_is_the_same_when_lines_end_in_crlf_as_smtp_delivers_them(name):
    lf = (DATA / name).read_bytes().replace(b"\r\n", b"\n")
    crlf = lf.replace(b"\n", b"\r\n")
    assert mime.parse(crlf).new_text == mime.parse(lf).new_text
