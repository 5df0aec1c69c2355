"""The SMTP listener, driven by a real ``smtplib`` client."""

from __future__ import annotations

import smtplib
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


def _client(controller) -> smtplib.SMTP:
    return smtplib.SMTP(controller.hostname, controller.port, timeout=10)


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
        code, reply = client.mail("a@example.org", [f"SIZE={settings.max_message_bytes + 1}"])
    assert code == 552
    assert reply.startswith(b"5.3.4")


def test_oversize_data_gets_552_and_nothing_is_stored(settings, pool, conn, mailbox):
    from tests.conftest import free_port
    from workers.smtp import make_controller

    small = settings.with_overrides(
        smtp_host="127.0.0.1", smtp_port=free_port(), max_message_bytes=2000
    )
    controller = make_controller(small, pool, lambda ids: None)
    controller.start()
    try:
        with _client(controller) as client:
            client.ehlo()
            client.mail("a@example.org")
            client.rcpt("support@example.com")
            code, reply = client.data(MAIL + b"x" * 5000 + b"\r\n")
    finally:
        controller.stop()
    assert code == 552
    assert reply.startswith(b"5.3.4")
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 0


@pytest.fixture
def cut_off(settings):
    """A listener whose database connections go through a proxy the test can cut."""
    from pipeline.db import make_pool
    from tests.conftest import free_port
    from workers.smtp import make_controller

    parts = urlsplit(settings.database_url)
    if not parts.hostname:
        pytest.fail("this test needs PostgreSQL over TCP")
    proxy = CuttableProxy((parts.hostname, parts.port or 5432))
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    pool = make_pool(proxied, max_size=2)
    pool.wait()
    listen = settings.with_overrides(smtp_host="127.0.0.1", smtp_port=free_port())
    controller = make_controller(listen, pool, lambda ids: None)
    controller.start()
    yield controller, proxy
    controller.stop()
    pool.close()
    proxy.close()


def test_database_outage_gets_451_and_the_listener_recovers(cut_off, mailbox, conn):
    controller, proxy = cut_off
    proxy.cut()
    with _client(controller) as client:
        client.ehlo()
        client.mail("a@example.org")
        code, reply = client.rcpt("support@example.com")
    assert (code, reply[:5]) == (451, b"4.3.0")

    proxy.restore()
    with _client(controller) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 1


def test_database_lost_between_rcpt_and_data_gets_451(cut_off, mailbox, conn):
    controller, proxy = cut_off
    with _client(controller) as client:
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
    controller, proxy = cut_off
    with _client(controller) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
    proxy.cut()  # as a database restart would: the listener's idle connections are dead
    proxy.restore()
    with _client(controller) as client:
        assert client.sendmail("a@example.org", ["support@example.com"], MAIL) == {}
    assert conn.execute("SELECT count(*) AS n FROM messages").fetchone()["n"] == 2


def test_a_sender_hanging_up_mid_store_does_not_stop_the_store_or_enqueue(
    smtp_server, broker, mailbox, conn
):
    from pipeline.queues import PIPELINE_QUEUE
    from tests.helpers import wait_for

    client = _client(smtp_server)
    client.ehlo()
    client.mail("a@example.org")
    client.rcpt("support@example.com")
    client.send(b"DATA\r\n")
    assert client.getreply()[0] == 354
    client.send(MAIL + b".\r\n")
    client.close()  # before the reply
    assert wait_for(lambda: conn.execute("SELECT id FROM messages").fetchone())
    assert wait_for(lambda: broker.do_qsize(PIPELINE_QUEUE) == 1)
