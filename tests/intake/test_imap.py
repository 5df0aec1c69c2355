"""The IMAP channel against a real Dovecot: syncs, resyncs, limits and every error path."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime

import pytest

from pipeline.intake.imap import SyncRequest, sync_folder
from pipeline.store import blobs, mailboxes
from tests.dovecot import make_account
from tests.helpers import accept, mfs, run_pipeline


def mail(n: int, subject: str = "Printer on fire", extra: str = "") -> bytes:
    return mfs(f"""
        Return-Path: <customer{n}@example.org>
        From: Customer {n} <customer{n}@example.org>
        To: imap@example.com
        Subject: {subject} {n}
        Message-ID: <imap-{n}-{subject.replace(" ", "-")}@example.org>
        Date: Fri, 20 Nov 2026 10:00:00 +0000

        Body {n}. {extra}
    """)


def sync(pool, settings, mailbox_id, folder="INBOX", request=None):
    accepted: list[int] = []
    report = sync_folder(
        pool, settings, mailbox_id, folder, request or SyncRequest(), accepted.append
    )
    assert report is not None
    assert accepted == report.message_ids
    return report


def imported(conn, mailbox_id, folder="INBOX"):
    return conn.execute(
        """SELECT id, imap_uid, channel, folder, state, stage, raw_sha256, envelope_from
           FROM messages WHERE mailbox_id = %s AND folder = %s ORDER BY id""",
        (mailbox_id, folder),
    ).fetchall()


def folder_state(conn, mailbox_id, folder="INBOX"):
    return conn.execute(
        "SELECT * FROM mailbox_folders WHERE mailbox_id = %s AND folder = %s",
        (mailbox_id, folder),
    ).fetchone()


def events_of(conn, kind):
    return [
        r["payload"]
        for r in conn.execute(
            "SELECT payload FROM webhook_events WHERE type = %s ORDER BY created_at", (kind,)
        ).fetchall()
    ]


def server_uidvalidity(user, folder="INBOX") -> int:
    client = user.client()
    try:
        return client.folder_status(folder, [b"UIDVALIDITY"])[b"UIDVALIDITY"]
    finally:
        client.logout()


def seen_uids(user, folder="INBOX") -> list[int]:
    client = user.client()
    try:
        client.select_folder(folder, readonly=True)
        return client.search("SEEN")
    finally:
        client.logout()


def test_first_sync_imports_every_message_raw_through_the_one_door(
    pool, conn, org, settings, imap_user
):
    messages = [mail(1), mail(2), mail(3)]
    imap_user.append("INBOX", *messages)
    box = make_account(conn, org.org_id, imap_user)

    report = sync(pool, settings, box)

    assert (report.fetched, report.skipped, report.resync, report.error) == (3, 0, None, None)
    rows = imported(conn, box)
    assert [r["imap_uid"] for r in rows] == [1, 2, 3]
    assert {(r["channel"], r["state"], r["stage"]) for r in rows} == {("imap", "received", "parse")}
    assert [blobs.get(conn, r["raw_sha256"]) for r in rows] == messages
    assert rows[0]["envelope_from"] == "customer1@example.org"
    state = folder_state(conn, box)
    assert state["last_uid"] == 3
    assert state["uidvalidity"] == server_uidvalidity(imap_user)
    assert state["last_error"] is None and state["last_synced_at"] is not None
    assert events_of(conn, "sync.completed") == [
        {
            "account_id": box,
            "folder": "INBOX",
            "fetched": 3,
            "skipped": 0,
            "uidvalidity": state["uidvalidity"],
            "last_uid": 3,
            "resync": None,
        }
    ]


def test_sync_leaves_mail_unseen_unless_the_mailbox_marks_it_seen(
    pool, conn, org, settings, imap_user
):
    imap_user.append("INBOX", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user)
    sync(pool, settings, box)
    assert seen_uids(imap_user) == []

    mailboxes.update_account(conn, org.org_id, box, {"mark_seen": True}, None)
    imap_user.append("INBOX", mail(3))
    sync(pool, settings, box)
    assert seen_uids(imap_user) == [3]


def test_incremental_sync_reads_only_mail_above_the_last_uid(pool, conn, org, settings, imap_user):
    imap_user.append("INBOX", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user)
    sync(pool, settings, box)

    imap_user.append("INBOX", mail(3), mail(4))
    second = sync(pool, settings, box)
    third = sync(pool, settings, box)

    assert second.fetched == 2 and third.fetched == 0
    assert [r["imap_uid"] for r in imported(conn, box)] == [1, 2, 3, 4]
    assert folder_state(conn, box)["last_uid"] == 4
    # A poll that found nothing raises no event: subscribers are not spammed every minute.
    assert [e["fetched"] for e in events_of(conn, "sync.completed")] == [2, 2]


def test_changed_uidvalidity_rereads_the_whole_folder(pool, conn, org, settings, imap_user):
    client = imap_user.client()
    client.create_folder("Support")
    client.logout()
    imap_user.append("Support", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user, sync_folders=["Support"])
    sync(pool, settings, box, "Support")
    old_validity = folder_state(conn, box, "Support")["uidvalidity"]

    client = imap_user.client()  # recreating a folder gives it a new UIDVALIDITY
    client.delete_folder("Support")
    client.create_folder("Support")
    client.logout()
    imap_user.append("Support", mail(1), mail(2), mail(3))
    report = sync(pool, settings, box, "Support")

    assert report.resync == "uidvalidity_changed"
    assert report.fetched == 3
    state = folder_state(conn, box, "Support")
    assert state["uidvalidity"] == server_uidvalidity(imap_user, "Support") != old_validity
    assert state["last_uid"] == 3
    reread = imported(conn, box, "Support")[2:]
    assert sorted(r["imap_uid"] for r in reread) == [1, 2, 3]  # each UID exactly once


def test_full_resync_and_since_date_reaccept_old_mail_once_per_uid(
    pool, conn, org, settings, imap_user
):
    imap_user.append("INBOX", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user)
    sync(pool, settings, box)

    full = sync(pool, settings, box, request=SyncRequest(full_resync=True, manual=True))
    since = sync(pool, settings, box, request=SyncRequest(since=date(2000, 1, 1)))
    future = sync(pool, settings, box, request=SyncRequest(since=date(2999, 1, 1)))

    assert (full.resync, full.fetched) == ("full_resync", 2)
    assert (since.resync, since.fetched) == ("since_date", 2)
    assert future.fetched == 0
    uids = [r["imap_uid"] for r in imported(conn, box)]
    assert uids == [1, 2, 1, 2, 1, 2]
    assert folder_state(conn, box)["last_uid"] == 2
    assert sync(pool, settings, box).fetched == 0  # back to incremental, nothing new


def test_message_over_the_size_limit_is_recorded_and_skipped_not_retried(
    pool, conn, org, settings, imap_user
):
    small = settings.with_overrides(max_message_bytes=2_000)
    imap_user.append("INBOX", mail(1), mail(2, extra="x" * 5_000), mail(3))
    box = make_account(conn, org.org_id, imap_user)

    report = sync(pool, small, box)
    again = sync(pool, small, box)

    assert (report.fetched, report.skipped, report.error) == (2, 1, None)
    assert again.fetched == again.skipped == 0
    assert [r["imap_uid"] for r in imported(conn, box)] == [1, 3]
    assert folder_state(conn, box)["last_uid"] == 3
    skipped = conn.execute("SELECT uid, size, reason FROM imap_skipped").fetchall()
    assert len(skipped) == 1
    assert skipped[0]["uid"] == 2 and skipped[0]["size"] > 5_000
    assert skipped[0]["reason"] == "too_large"
    assert events_of(conn, "sync.completed")[0]["skipped"] == 1


def failed_sync(pool, conn, settings, box, folder="INBOX", request=None):
    report = sync(pool, settings, box, folder, request)
    assert report.fetched == 0 and report.error
    account = conn.execute(
        "SELECT last_error, last_error_at FROM mailboxes WHERE id = %s", (box,)
    ).fetchone()
    assert account["last_error"] == report.error
    assert account["last_error_at"] is not None
    assert folder_state(conn, box, folder)["last_error"] == report.error
    return report.error


def test_bad_password_is_recorded_and_raises_sync_failed_once_per_new_error(
    pool, conn, org, settings, imap_user, caplog
):
    caplog.set_level(logging.DEBUG)  # imapclient logs every command at DEBUG
    box = make_account(conn, org.org_id, imap_user, password="wrong-password")
    error = failed_sync(pool, conn, settings, box)
    failed_sync(pool, conn, settings, box)  # the same error on the next poll: no new event

    assert error == f"login failed for {imap_user.name} (AUTHENTICATIONFAILED)"
    assert "wrong-password" not in caplog.text
    assert events_of(conn, "sync.failed") == [
        {"account_id": box, "folder": "INBOX", "kind": "auth", "error": error}
    ]
    failed_sync(pool, conn, settings, box, request=SyncRequest(manual=True))
    assert len(events_of(conn, "sync.failed")) == 2  # an explicit request always reports


def test_unreachable_server_is_recorded_with_a_clear_message(pool, conn, org, settings, imap_user):
    from tests.conftest import free_port

    port = free_port()
    box = make_account(conn, org.org_id, imap_user, port=port)
    error = failed_sync(pool, conn, settings, box)
    assert error == f"connection refused by 127.0.0.1:{port}"
    assert events_of(conn, "sync.failed")[0]["kind"] == "connect"


@pytest.mark.parametrize(
    ("encryption", "expected"),
    [
        ("ssl", "TLS failure with 127.0.0.1:{port}: WRONG_VERSION_NUMBER"),
        ("tls", "127.0.0.1:{port} does not offer STARTTLS; use ssl or none"),
    ],
)
def test_tls_failures_are_recorded_with_a_clear_message(
    pool, conn, org, settings, imap_user, encryption, expected
):
    box = make_account(conn, org.org_id, imap_user, encryption=encryption)
    error = failed_sync(pool, conn, settings, box)
    assert error == expected.format(port=imap_user.server.port)
    assert events_of(conn, "sync.failed")[0]["kind"] == "tls"


def test_a_folder_that_vanished_is_recorded_on_the_folder(pool, conn, org, settings, imap_user):
    box = make_account(conn, org.org_id, imap_user, sync_folders=["INBOX", "Gone"])
    error = failed_sync(pool, conn, settings, box, "Gone")
    assert error == "folder 'Gone' does not exist on the server"
    assert events_of(conn, "sync.failed")[0]["kind"] == "folder"


def test_a_successful_folder_sync_keeps_the_mailbox_error_of_a_failing_folder(
    pool, conn, org, settings, imap_user
):
    box = make_account(conn, org.org_id, imap_user, sync_folders=["INBOX", "Gone"])
    error = failed_sync(pool, conn, settings, box, "Gone")
    sync(pool, settings, box, "INBOX")
    assert mailboxes.get_account(conn, org.org_id, box)["last_error"] == error

    mailboxes.update_account(conn, org.org_id, box, {"sync_folders": ["INBOX"]}, None)
    sync(pool, settings, box, "INBOX")
    assert mailboxes.get_account(conn, org.org_id, box)["last_error"] is None


def test_password_is_encrypted_at_rest_and_never_logged(
    pool, conn, org, settings, imap_user, caplog
):
    caplog.set_level(logging.DEBUG)
    box = make_account(conn, org.org_id, imap_user)
    sync(pool, settings, box)
    assert "LOGIN" in caplog.text and imap_user.password not in caplog.text
    stored = conn.execute(
        "SELECT imap_password_enc FROM mailboxes WHERE id = %s", (box,)
    ).fetchone()["imap_password_enc"]
    assert imap_user.password.encode() not in bytes(stored)
    account = mailboxes.imap_account(conn, settings.secret_key, box)
    assert account.password == imap_user.password
    assert imap_user.password not in repr(account)


def test_a_large_folder_is_imported_in_batches_in_uid_order(pool, conn, org, settings, imap_user):
    messages = [mail(n) for n in range(1, 121)]
    imap_user.append("INBOX", *messages)
    box = make_account(conn, org.org_id, imap_user)

    assert sync(pool, settings, box).fetched == 120

    rows = imported(conn, box)
    assert [r["imap_uid"] for r in rows] == list(range(1, 121))
    assert blobs.get(conn, rows[-1]["raw_sha256"]) == messages[-1]


def test_envelope_comes_from_the_trace_headers_the_delivering_server_wrote():
    from pipeline.intake.imap_fetch import envelope_of
    from pipeline.records import Mailbox

    box = Mailbox(1, uuid.uuid4(), "Support", "support@example.com")
    delivered = mfs("""
        Return-Path: <bounce-123@lists.example.org>
        Delivered-To: support+t0k3n@example.com
        From: Ann <ann@example.org>

        Hi
    """)
    bounce = mfs("""
        Return-Path: <>
        From: MAILER-DAEMON@example.org

        Undeliverable
    """)
    plain = mfs("""
        From: Ann <ann@example.org>

        Hi
    """)
    assert envelope_of(delivered, box).mail_from == "bounce-123@lists.example.org"
    assert envelope_of(delivered, box).rcpt_tos == ("support+t0k3n@example.com",)
    assert envelope_of(bounce, box).mail_from is None  # a null sender, as over SMTP
    assert envelope_of(plain, box).mail_from == "ann@example.org"
    assert envelope_of(plain, box).rcpt_tos == ("support@example.com",)


def test_connection_test_and_folder_statuses_read_the_real_server(conn, org, settings, imap_user):
    from pipeline.intake import imap_folders

    imap_user.append("INBOX", mail(1), mail(2))
    client = imap_user.client()
    client.create_folder("Archive")
    client.logout()
    account = mailboxes.imap_account(
        conn, settings.secret_key, make_account(conn, org.org_id, imap_user)
    )

    assert sorted(imap_folders.test_connection(account, settings)) == ["Archive", "INBOX"]
    statuses = {
        s.path: (s.messages, s.unseen) for s in imap_folders.folder_statuses(account, settings)
    }
    assert statuses == {"INBOX": (2, 2), "Archive": (0, 0)}


def test_ssl_and_starttls_mailboxes_sync_when_certificate_checks_are_off(
    pool, conn, org, settings, imap_tls_user
):
    lenient = settings.with_overrides(imap_verify_tls=False)
    imap_tls_user.append("INBOX", mail(1))
    server = imap_tls_user.server
    implicit = make_account(
        conn, org.org_id, imap_tls_user, "ssl@example.com", encryption="ssl", port=server.tls_port
    )
    starttls = make_account(conn, org.org_id, imap_tls_user, "tls@example.com", encryption="tls")

    assert sync(pool, lenient, implicit).fetched == 1
    assert sync(pool, lenient, starttls).fetched == 1


@pytest.mark.parametrize("encryption", ["ssl", "tls"])
def test_an_untrusted_certificate_is_a_tls_failure(
    pool, conn, org, settings, imap_tls_user, encryption
):
    server = imap_tls_user.server
    port = server.tls_port if encryption == "ssl" else server.port
    box = make_account(conn, org.org_id, imap_tls_user, encryption=encryption, port=port)
    error = failed_sync(pool, conn, settings, box)
    assert error == f"TLS failure with 127.0.0.1:{port}: CERTIFICATE_VERIFY_FAILED"


def test_imported_mail_is_dated_by_when_the_server_received_it(
    pool, conn, org, settings, imap_user
):
    received = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    client = imap_user.client()
    client.append("INBOX", mail(1), msg_time=received)
    client.logout()
    box = make_account(conn, org.org_id, imap_user)

    sync(pool, settings, box)

    row = conn.execute("SELECT received_at FROM messages WHERE mailbox_id = %s", (box,)).fetchone()
    assert row["received_at"] == received


def test_a_message_expunged_between_search_and_fetch_is_passed_over(imap_user):
    from pipeline.intake.imap_fetch import poll_folder

    imap_user.append("INBOX", mail(1), mail(2))
    reader = imap_user.client()
    reader.select_folder("INBOX", readonly=True)
    uids = reader.search("ALL")
    other = imap_user.client()
    other.select_folder("INBOX")
    other.delete_messages([1])
    other.expunge()
    other.logout()

    items = list(poll_folder(reader, uids, 1_000_000))
    reader.logout()

    assert [(i.uid, i.skip_reason) for i in items] == [(1, "vanished"), (2, None)]
    assert items[1].raw == mail(2)


def test_a_folder_with_a_non_ascii_name_syncs_under_that_name(pool, conn, org, settings, imap_user):
    from pipeline.intake import imap_folders

    client = imap_user.client()
    client.create_folder("Réclamations")
    client.logout()
    imap_user.append("Réclamations", mail(1))
    box = make_account(conn, org.org_id, imap_user, sync_folders=["Réclamations"])

    assert sync(pool, settings, box, "Réclamations").fetched == 1
    assert [r["imap_uid"] for r in imported(conn, box, "Réclamations")] == [1]
    account = mailboxes.imap_account(conn, settings.secret_key, box)
    assert "Réclamations" in imap_folders.test_connection(account, settings)


def test_a_password_encrypted_under_another_key_is_a_recorded_failure(
    pool, conn, org, settings, imap_user
):
    box = make_account(conn, org.org_id, imap_user)
    rotated = settings.with_overrides(secret_key="a-different-key")
    error = failed_sync(pool, conn, rotated, box)
    assert error.startswith("the stored password cannot be decrypted")


def test_resyncs_through_the_full_pipeline_open_no_second_ticket(
    pool, conn, org, settings, imap_user
):
    imap_user.append("INBOX", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user)
    first = sync(pool, settings, box)
    for message_id in first.message_ids:
        run_pipeline(pool, message_id)

    again = sync(pool, settings, box, request=SyncRequest(full_resync=True, manual=True))
    since = sync(pool, settings, box, request=SyncRequest(since=date(2000, 1, 1)))
    for message_id in again.message_ids + since.message_ids:
        run_pipeline(pool, message_id)

    assert len(again.message_ids) == len(since.message_ids) == 2  # re-accepted...
    copies = conn.execute(
        "SELECT DISTINCT state FROM messages WHERE id = ANY(%s)",
        (again.message_ids + since.message_ids,),
    ).fetchall()
    assert [r["state"] for r in copies] == ["duplicate"]  # ...and absorbed by dedupe
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 2


def test_a_uidvalidity_change_through_the_full_pipeline_opens_no_second_ticket(
    pool, conn, org, settings, imap_user
):
    client = imap_user.client()
    client.create_folder("Support")
    client.logout()
    imap_user.append("Support", mail(1), mail(2))
    box = make_account(conn, org.org_id, imap_user, sync_folders=["Support"])
    for message_id in sync(pool, settings, box, "Support").message_ids:
        run_pipeline(pool, message_id)

    client = imap_user.client()
    client.delete_folder("Support")
    client.create_folder("Support")
    client.logout()
    imap_user.append("Support", mail(1), mail(2), mail(3))
    report = sync(pool, settings, box, "Support")
    for message_id in report.message_ids:
        run_pipeline(pool, message_id)

    assert report.resync == "uidvalidity_changed" and report.fetched == 3
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 3  # 2 + the new


def test_the_same_mail_by_smtp_and_by_imap_makes_one_ticket(pool, conn, org, settings, imap_user):
    box = make_account(conn, org.org_id, imap_user)
    raw = mail(1)
    run_pipeline(pool, accept(pool, raw, mailboxes.get(conn, org.org_id, box)))
    imap_user.append("INBOX", raw)

    [copy] = sync(pool, settings, box).message_ids
    run_pipeline(pool, copy)

    state = conn.execute("SELECT state FROM messages WHERE id = %s", (copy,)).fetchone()
    assert state["state"] == "duplicate"
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1
