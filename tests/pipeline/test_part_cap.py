"""A mail of tens of thousands of MIME parts is read up to ``INTAKE_MAX_MIME_PARTS``: fast,
with capped attachment rows and a flag, its raw kept whole and its ticket made."""

from __future__ import annotations

import time

from pipeline.mail import mime, part_cap
from tests.helpers import mfs
from tests.pipeline.mailflow import deliver, message, ticket_of


def many_parts(
    count: int, boundary: str = "b1", declared: str | None = None, kind: str = "mixed"
) -> bytes:
    head = mfs(f"""
        From: a@example.org
        To: support@example.com
        Subject: Many parts
        Message-ID: <many@example.org>
        MIME-Version: 1.0
        Content-Type: multipart/{kind}; boundary="{declared or boundary}"

        --{boundary}
        Content-Type: text/plain

        The body comes first.
    """)
    part = (
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="f{n}.bin"\r\n\r\nx{n}\r\n'
    )
    return head + "".join(part.format(n=n) for n in range(count)).encode() + b"--b1--\r\n"


def test_fifty_thousand_parts_are_parsed_fast_with_capped_rows_a_flag_and_a_ticket(
    pool, conn, mailbox, settings
):
    raw = many_parts(50_000)
    started = time.monotonic()
    message_id = deliver(pool, raw, mailbox)
    elapsed = time.monotonic() - started
    row = message(conn, message_id)
    rows = conn.execute(
        "SELECT count(*) AS n FROM attachments WHERE message_id = %s", (message_id,)
    ).fetchone()["n"]
    assert rows == row["attachment_count"] == settings.max_mime_parts - 1  # + the text body
    assert row["analysis"]["parse"]["mime_parts_capped"] == {
        "limit": settings.max_mime_parts,
        "parts_found": 50_001,
    }
    assert row["body_text"].strip() == "The body comes first."
    assert ticket_of(conn, message_id) is not None
    stored = conn.execute(
        "SELECT size FROM blobs WHERE sha256 = %s", (row["raw_sha256"],)
    ).fetchone()
    assert stored["size"] == len(raw)  # the raw message is kept whole
    assert elapsed < 30  # uncapped: a minute and a gigabyte for 100,000 parts


def test_a_delivery_report_of_fifty_thousand_parts_is_read_by_the_filter_within_the_cap(
    pool, conn, mailbox
):
    raw = many_parts(50_000, kind="report; report-type=delivery-status")
    started = time.monotonic()
    message_id = deliver(pool, raw, mailbox)
    assert time.monotonic() - started < 30
    row = message(conn, message_id)
    assert row["state"] == "filtered"
    assert row["analysis"]["filter"]["verdict"] == "filtered"
    assert row["analysis"]["filter"]["mime_parts_capped"] is True


def test_a_cap_is_kept_when_the_declared_boundary_is_not_the_one_used():
    parsed = mime.parse(many_parts(5_000, boundary="used", declared="other"), max_parts=100)
    assert len(parsed.parts) < 100
    assert parsed.notes["mime_parts_capped"]["parts_found"] == 5_001


def test_mail_within_the_cap_is_parsed_unchanged():
    raw = many_parts(20)
    assert part_cap.cap_parts(raw, 21) == part_cap.Capped(raw)
    parsed = mime.parse(raw, max_parts=21)
    assert len(parsed.parts) == 20
    assert "mime_parts_capped" not in parsed.notes


def test_text_lines_that_merely_start_with_two_dashes_are_not_parts():
    body = "\n".join(f"--item {n}" for n in range(3_000)) + "\n-- \nSignature"
    raw = mfs(f"From: a@example.org\nSubject: list\n\n{body}\n")
    assert part_cap.cap_parts(raw, 10).parts_found is None
    assert mime.parse(raw, max_parts=10).body_text.count("--item") == 3_000
