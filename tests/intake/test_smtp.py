"""The SMTP listener, driven by a real ``smtplib`` client."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.helpers import mfs
from tests.proxy import CuttableProxy

MAIL = mfs("""
    From: Alice <alice@example.org>
    To: support@example.com
    Subject: Hello
    Message-ID: <smtp-1@example.org>

    Hello there.
""")


def _client(listener) -> smtplib.SMTP:
    return smtplib.SMTP(listener.hostname, listener.port, timeout=10)


@contextmanager
def listening(settings, pool, on_accepted=lambda ids: None, **overrides) -> Iterator:
    """A listener of its own, with ``overrides`` of its settings."""
    from tests.conftest import free_port
    from workers.smtp import make_listener

    local = settings.with_overrides(smtp_host="127.0.0.1", smtp_port=free_port(), **overrides)
    listener = make_listener(local, pool, on_accepted)
    listener.start()
    try:
        yield listener
    finally:
        listener.stop()


def test_accepted_mail_is_committed_before_250(smtp_server, conn, mailbox):
    with _client(smtp_server) as client:
        client.ehlo("client.example.org")
        client.mail("alice@example.org")
        client.rcpt("support@example.com")
        code, reply = client.data(MAIL)
        # Read the row over another connection the instant 250 arrives: it must be there.
        rows = conn.execute("SELECT * FROM messages").fetchall()
    assert code == 250
    assert reply.startswith(b"2.0.0")
    assert len(rows) == 1
    assert rows[0]["channel"] == "smtp"
    assert rows[0]["envelope_from"] == "alice@example.org"
    stored = conn.execute(
        "SELECT data FROM blobs WHERE sha256 = %s", (rows[0]["raw_sha256"],)
    ).fetchone()
    assert bytes(stored["data"]).startswith(b"Received: from client.example.org")
    assert bytes(stored["data"]).endswith(MAIL)


def test_unknown_recipient_is_refused_with_550(smtp_server, mailbox):
    with _client(smtp_server) as client:
        client.ehlo()
        client.mail("alice@example.org")
        code, reply = client.rcpt("nobody@example.com")
    assert code == 550
    assert reply.startswith(b"5.1.1")


def test_intake_is_not_an_open_relay(smtp_server, mailbox, conn):
    with _client(smtp_server) as client, pytest.raises(smtplib.SMTPRecipientsRefused):
        client.sendmail("spammer@example.net", ["victim@gmail.com"], MAIL)
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0


def test_plus_addressed_recipient_reaches_its_mailbox(smtp_server, mailbox, conn):
    with _client(smtp_server) as client:
        refused = client.sendmail("alice@example.org", ["Support+T0k3n@Example.com"], MAIL)
    assert refused == {}
    row = conn.execute("SELECT mailbox_id, envelope_to FROM messages").fetchone()
    assert row["mailbox_id"] == mailbox.id
    assert row["envelope_to"] == ["Support+T0k3n@Example.com"]


def test_mail_to_two_organizations_is_stored_once_for_each(smtp_server, conn, mailbox):
    from pipeline.store import mailboxes
    from tests.helpers import make_org

    other = make_org(conn, "Globex")
    mailboxes.create(conn, other.org_id, "help@globex.test")
    with _client(smtp_server) as client:
        client.sendmail("a@example.org", ["support@example.com", "help@globex.test"], MAIL)
    orgs = {r["org_id"] for r in conn.execute("SELECT org_id FROM messages")}
    assert orgs == {mailbox.org_id, other.org_id}


def test_size_is_advertised_and_an_oversize_declaration_gets_552(smtp_server, mailbox, settings):
    with _client(smtp_server) as client:
        client.ehlo()
        assert int(client.esmtp_features["size"]) == settings.max_message_bytes
        code, _ = client.mail("a@example.org", [f"SIZE={settings.max_message_bytes + 1}"])
    assert code == 552


def test_oversize_data_gets_552_and_nothing_is_stored(settings, pool, conn, mailbox):
    with listening(settings, pool, max_message_bytes=2000) as listener, _client(listener) as client:
        client.ehlo()
        client.mail("a@example.org")
        client.rcpt("support@example.com")
        code, _ = client.data(MAIL + (b"x" * 70 + b"\r\n") * 100)
    assert code == 552
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0


@pytest.fixture
def cut_off(settings):
    """A listener whose database connections go through a proxy the test can cut."""
    from pipeline.db import make_pool

    parts = urlsplit(settings.database_url)
    if not parts.hostname:
        pytest.fail("this test needs PostgreSQL over TCP")
    proxy = CuttableProxy((parts.hostname, parts.port or 5432))
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    pool = make_pool(proxied, max_size=2)
    pool.wait()
    with listening(settings, pool) as listener:
        yield listener, proxy
    pool.close()
    proxy.close()


def test_database_outage_gets_451_and_the_listener_recovers(cut_off, mailbox, conn):
    listener, proxy = cut_off
    proxy.cut()
    with _client(listener) as client:
        client.ehlo()
        client.mail("a@example.org")
        code, reply = client.rcpt("support@example.com")
    assert (code, reply[:5]) == (451, b"4.3.0")

    proxy.restore()
    with _client(listener) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 1


def test_database_lost_between_rcpt_and_data_gets_451(cut_off, mailbox, conn):
    listener, proxy = cut_off
    with _client(listener) as client:
        client.ehlo()
        client.mail("a@example.org")
        assert client.rcpt("support@example.com")[0] == 250
        proxy.cut()
        code, reply = client.data(MAIL)
    assert (code, reply[:5]) == (451, b"4.3.0")
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0


def test_after_the_database_drops_every_connection_the_next_message_is_stored(
    cut_off, mailbox, conn
):
    listener, proxy = cut_off
    with _client(listener) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
    proxy.cut()  # as a database restart would: the listener's idle connections are dead
    proxy.restore()
    with _client(listener) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 2


def test_a_sender_hanging_up_mid_store_does_not_stop_the_store_or_enqueue(
    smtp_server, broker, mailbox, conn, settings
):
    from pipeline.db import connect
    from pipeline.queues import PIPELINE_QUEUE
    from tests.helpers import wait_for

    client = _client(smtp_server)
    client.ehlo()
    client.mail("a@example.org")
    client.rcpt("support@example.com")
    with connect(settings.database_url) as blocker, blocker.transaction():
        blocker.execute("LOCK TABLE messages IN SHARE MODE")  # the store's INSERT waits
        client.send(b"DATA\r\n")
        assert client.getreply()[0] == 354
        client.send(MAIL + b".\r\n")
        assert wait_for(lambda: _waiting_insert(conn))
        client.close()  # before the reply, mid-store
    assert wait_for(lambda: conn.execute("SELECT id FROM messages").fetchone())
    assert wait_for(lambda: broker.do_qsize(PIPELINE_QUEUE) == 1)


def _waiting_insert(conn) -> bool:
    row = conn.execute(
        """SELECT count(*) AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'
             AND query LIKE '%INSERT INTO messages%'"""
    ).fetchone()
    return row["n"] > 0


def test_a_recipient_with_a_nul_gets_a_clean_553(smtp_server, mailbox, conn):
    with _client(smtp_server) as client:
        client.ehlo()
        client.mail("a@example.org")
        code, reply = client.rcpt("support\x00@example.com")
        assert (code, reply) == (553, b"5.1.3 Malformed address")
        assert client.noop()[0] == 250  # the session goes on
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0


@pytest.mark.parametrize("sender", ["a\x00@example.org", "a\x1b@example.org", "x" * 300 + "@b.c"])
def test_a_malformed_sender_gets_a_clean_553(smtp_server, mailbox, sender):
    with _client(smtp_server) as client:
        client.ehlo()
        code, reply = client.mail(sender)
    assert (code, reply) == (553, b"5.1.3 Malformed address")


def test_a_failure_is_answered_451_without_its_details(smtp_server, mailbox, conn):
    with _client(smtp_server) as client:
        client.ehlo()
        client.mail("a@example.org")
        assert client.rcpt("support@example.com")[0] == 250
        conn.execute("DELETE FROM mailboxes WHERE id = %s", (mailbox.id,))  # meanwhile
        code, reply = client.data(MAIL)
    assert (code, reply) == (451, b"4.3.0 Temporary local problem, try again later")


def test_connections_past_the_per_client_cap_get_421_and_are_closed(settings, pool, mailbox):
    with listening(settings, pool, smtp_max_connections_per_ip=3) as listener:
        held = [_client(listener) for _ in range(3)]
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            _client(listener)
        assert refused.value.smtp_code == 421
        with socket.create_connection((listener.hostname, listener.port), timeout=5) as extra:
            assert extra.makefile("rb").read().startswith(b"421 4.7.0")  # then closed
        for client in held:  # the three admitted still work
            assert client.noop()[0] == 250
        held.pop().quit()
        with _client(listener) as client:  # a place came free
            assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
        for client in held:
            client.quit()


def test_an_idle_connection_is_closed_after_the_idle_timeout(settings, pool):
    with listening(settings, pool, smtp_idle_seconds=0.5) as listener:
        client = _client(listener)
        client.ehlo()
        client.sock.settimeout(5)
        assert client.sock.recv(100) == b""  # closed by the server, not by this timeout
        client.close()


def test_store_commits_one_message_per_mailbox_and_returns_their_ids(pool, conn, mailbox):
    from pipeline.intake.smtp import store
    from pipeline.records import Envelope
    from pipeline.store import mailboxes
    from tests.helpers import make_org

    other = make_org(conn, "Globex")
    second = mailboxes.create(conn, other.org_id, "help@globex.test")
    envelope = Envelope("a@example.org", ("support@example.com", "help@globex.test"))
    ids = store(pool, MAIL, envelope, [mailbox, second, mailbox])
    rows = conn.execute("SELECT id, mailbox_id FROM messages ORDER BY id").fetchall()
    assert [r["id"] for r in rows] == ids
    assert [r["mailbox_id"] for r in rows] == [mailbox.id, second.id]


def test_a_line_longer_than_rfc_5321_allows_is_still_accepted(smtp_server, mailbox, conn):
    long_line = MAIL + b"x" * 20_000 + b"\r\n"
    with _client(smtp_server) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], long_line) == {}
    assert conn.execute("SELECT raw_size FROM messages").fetchone()["raw_size"] > 20_000


def test_the_recipient_cache_stays_bounded_under_random_recipients(pool, mailbox):
    from pipeline.intake.smtp import RecipientCache

    cache = RecipientCache(pool, size=50)
    for n in range(200):
        assert cache.resolve(f"random{n}@example.com") is None
    assert len(cache.entries) <= 50
    assert cache.resolve("support@example.com") == mailbox
    assert cache.cached("support@example.com") == (True, mailbox)
