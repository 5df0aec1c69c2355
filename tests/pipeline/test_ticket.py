"""ticket: new mail opens a ticket with its contact; a reply lands on its ticket."""

import threading

from pipeline.store import contacts
from tests.helpers import accept, mfs, run_pipeline

FIRST = mfs("""
    From: Alice <Alice@Example.org>
    To: support@example.com
    Subject: Printer on fire
    Message-ID: <first@example.org>

    Help, it is on fire.
""")

REPLY = mfs("""
    From: alice@example.org
    To: support@example.com
    Subject: Re: Printer on fire
    Message-ID: <second@example.org>
    In-Reply-To: <first@example.org>
    References: <first@example.org>

    Still burning.
""")


def _ticket_of(conn, message_id):
    return conn.execute(
        "SELECT t.* FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE m.id = %s",
        (message_id,),
    ).fetchone()


def test_new_mail_opens_a_ticket_with_its_contact(pool, conn, mailbox):
    message_id = accept(pool, FIRST, mailbox)
    run_pipeline(pool, message_id)
    ticket = _ticket_of(conn, message_id)
    assert ticket["subject"] == "Printer on fire"
    assert ticket["status"] == "new"
    assert ticket["number"] == 1
    contact = conn.execute(
        "SELECT * FROM contacts WHERE id = %s", (ticket["contact_id"],)
    ).fetchone()
    assert contact["email"] == "alice@example.org"
    assert contact["name"] == "Alice"
    body = conn.execute(
        "SELECT * FROM ticket_messages WHERE ticket_id = %s", (ticket["id"],)
    ).fetchone()
    assert body["body_text"].strip() == "Help, it is on fire."
    state = conn.execute(
        "SELECT state, stage FROM messages WHERE id = %s", (message_id,)
    ).fetchone()
    assert state == {"state": "done", "stage": None}


def test_reply_naming_a_ticket_message_becomes_a_reply_on_it(pool, conn, mailbox):
    first = accept(pool, FIRST, mailbox)
    run_pipeline(pool, first)
    second = accept(pool, REPLY, mailbox)
    run_pipeline(pool, second)
    ticket = _ticket_of(conn, second)
    assert ticket["id"] == _ticket_of(conn, first)["id"]
    assert ticket["exchange_count"] == 2
    assert ticket["status"] == "reply"
    assert conn.execute("SELECT count(*) AS n FROM tickets").fetchone()["n"] == 1
    assert conn.execute("SELECT count(*) AS n FROM contacts").fetchone()["n"] == 1
    kinds = [
        r["kind"] for r in conn.execute("SELECT kind FROM tracking_events ORDER BY id").fetchall()
    ]
    assert kinds == ["created", "replied"]


def test_reply_found_through_references_only(pool, conn, mailbox):
    first = accept(pool, FIRST, mailbox)
    run_pipeline(pool, first)
    reply = REPLY.replace(b"In-Reply-To: <first@example.org>\r\n", b"")
    reply = reply.replace(
        b"References: <first@example.org>", b"References: <x@y> <first@example.org>"
    )
    second = accept(pool, reply, mailbox)
    run_pipeline(pool, second)
    assert _ticket_of(conn, second)["id"] == _ticket_of(conn, first)["id"]


def test_ticket_numbers_count_per_organization(pool, conn, mailbox):
    for n in range(3):
        raw = FIRST.replace(b"<first@", f"<m{n}@".encode()).replace(b"fire", f"fire {n}".encode())
        message_id = accept(pool, raw, mailbox)
        run_pipeline(pool, message_id)
    numbers = [r["number"] for r in conn.execute("SELECT number FROM tickets ORDER BY id")]
    assert numbers == [1, 2, 3]


def test_ticket_stage_runs_twice_changes_nothing(pool, conn, mailbox, settings):
    from pipeline.context import StageContext
    from pipeline.runner import run_stage

    message_id = accept(pool, FIRST, mailbox)
    run_pipeline(pool, message_id)
    before = conn.execute("SELECT * FROM tickets").fetchall()
    # Force the stage to run again as if a crashed worker's job were redelivered.
    conn.execute(
        "UPDATE messages SET stage = 'ticket', state = 'processing' WHERE id = %s", (message_id,)
    )
    run_stage(pool, "ticket", message_id, StageContext(settings))
    assert conn.execute("SELECT * FROM tickets").fetchall() == before
    assert conn.execute("SELECT count(*) AS n FROM ticket_messages").fetchone()["n"] == 1


def test_a_contact_added_by_a_concurrent_transaction_is_found_not_duplicated(pool, conn, mailbox):
    org = mailbox.org_id
    found = {}
    with pool.connection() as first, first.transaction():
        mine = contacts.find_or_create(first, org, "Bob@Example.org", "Bob")

        def second() -> None:  # blocks on the unique index until the first commits
            with pool.connection() as other, other.transaction():
                found["id"] = contacts.find_or_create(other, org, "bob@example.org", None)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive()
    thread.join(5)
    assert found["id"] == mine
    rows = conn.execute("SELECT name FROM contacts").fetchall()
    assert rows == [{"name": "Bob"}]
