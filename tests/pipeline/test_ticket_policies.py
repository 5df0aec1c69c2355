"""ticket: organization policies for unmatched mail and replies to closed tickets."""

from __future__ import annotations

from pipeline.context import StageContext
from pipeline.stages import ticket
from pipeline.store import messages
from tests.pipeline.mailflow import count, deliver, mail, message, rerun, snapshot, ticket_of

REPLY_HEADERS = "In-Reply-To: <first@example.org>"


def _reply(pool, mailbox, n=1, **kwargs) -> int:
    raw = mail(
        "Re: Printer on fire",
        message_id=f"<reply-{n}@example.org>",
        headers=REPLY_HEADERS,
        body="Still burning.",
        **kwargs,
    )
    return deliver(pool, raw, mailbox)


def _opened(pool, conn, mailbox) -> dict:
    return ticket_of(conn, deliver(pool, mail(), mailbox))


def _set_policy(conn, **values) -> None:
    for column, value in values.items():
        conn.execute(f"UPDATE organizations SET {column} = %s", (value,))


def _kinds(conn, ticket_id) -> list[str]:
    rows = conn.execute(
        "SELECT kind FROM tracking_events WHERE ticket_id = %s ORDER BY id", (ticket_id,)
    ).fetchall()
    return [r["kind"] for r in rows]


def test_unmatched_mail_is_held_without_a_ticket_under_hold_policy(pool, conn, mailbox):
    _set_policy(conn, unmatched_policy="hold")
    message_id = deliver(pool, mail(), mailbox)
    row = message(conn, message_id)
    assert (row["state"], row["stage"], row["ticket_id"]) == ("held", None, None)
    assert row["analysis"]["ticket"] == {"outcome": "held", "reason": "unmatched", "policy": "hold"}
    assert count(conn, "tickets") == 0


def test_unmatched_mail_is_discarded_but_kept_under_discard_policy(pool, conn, mailbox):
    _set_policy(conn, unmatched_policy="discard")
    message_id = deliver(pool, mail(), mailbox)
    row = message(conn, message_id)
    assert (row["state"], row["ticket_id"]) == ("discarded", None)
    assert row["analysis"]["ticket"]["reason"] == "unmatched"
    assert row["subject"] == "Printer on fire"  # kept, parsed, listed
    assert count(conn, "tickets") == 0


def test_replies_still_land_on_their_ticket_under_hold_policy(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    _set_policy(conn, unmatched_policy="hold")
    assert ticket_of(conn, _reply(pool, mailbox))["id"] == first["id"]


def test_reply_on_open_ticket_counts_cancels_closure_moves_attachments_and_tracks(
    pool, conn, mailbox
):
    first = _opened(pool, conn, mailbox)
    conn.execute(
        "UPDATE tickets SET status = 'pending', pending_closure_at = now() + interval '1 day'"
    )
    raw = mail(
        "Re: Printer on fire",
        message_id="<reply-att@example.org>",
        headers=REPLY_HEADERS + '\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"',
        body="--b\nContent-Type: text/plain\n\nPhoto attached.\n--b\n"
        'Content-Type: image/png\nContent-Disposition: attachment; filename="fire.png"\n'
        "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--",
    )
    reply = deliver(pool, raw, mailbox)
    updated = ticket_of(conn, reply)
    assert updated["id"] == first["id"]
    assert (updated["status"], updated["exchange_count"]) == ("reply", 2)
    assert updated["pending_closure_at"] is None
    attachment = conn.execute(
        "SELECT * FROM attachments WHERE message_id = %s", (reply,)
    ).fetchone()
    ticket_message = conn.execute(
        "SELECT id FROM ticket_messages WHERE message_id = %s", (reply,)
    ).fetchone()
    assert (attachment["ticket_id"], attachment["ticket_message_id"]) == (
        first["id"],
        ticket_message["id"],
    )
    assert _kinds(conn, first["id"]) == ["created", "replied"]


def test_reply_to_solved_ticket_moves_it_back_to_reply_as_an_open_one(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    conn.execute("UPDATE tickets SET status = 'solved'")
    reply = _reply(pool, mailbox)
    assert ticket_of(conn, reply)["status"] == "reply"
    assert message(conn, reply)["reply_to_closed_ticket"] is False
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_reply_to_closed_ticket_reopens_it_under_reopen_policy(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    conn.execute("UPDATE tickets SET status = 'closed', closed_at = now()")
    reply = _reply(pool, mailbox)
    reopened = ticket_of(conn, reply)
    assert reopened["id"] == first["id"]
    assert (reopened["status"], reopened["closed_at"]) == ("reply", None)
    assert message(conn, reply)["reply_to_closed_ticket"] is True
    assert message(conn, reply)["analysis"]["ticket"]["reopened"] is True
    assert _kinds(conn, first["id"]) == ["created", "reopened", "replied"]


def test_reply_to_closed_ticket_opens_a_linked_ticket_under_new_ticket_policy(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    conn.execute("UPDATE tickets SET status = 'closed'")
    _set_policy(conn, closed_reply_policy="new_ticket")
    reply = _reply(pool, mailbox)
    new = ticket_of(conn, reply)
    assert new["id"] != first["id"]
    assert new["status"] == "new"
    assert (
        conn.execute("SELECT status FROM tickets WHERE id = %s", (first["id"],)).fetchone()[
            "status"
        ]
        == "closed"
    )
    links = conn.execute(
        "SELECT ticket_id, linked_ticket_id FROM ticket_links ORDER BY 1"
    ).fetchall()
    assert {(r["ticket_id"], r["linked_ticket_id"]) for r in links} == {
        (first["id"], new["id"]),
        (new["id"], first["id"]),
    }
    assert message(conn, reply)["reply_to_closed_ticket"] is True
    assert message(conn, reply)["analysis"]["ticket"]["linked_ticket_id"] == first["id"]


def test_reply_to_closed_ticket_is_held_under_hold_policy(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    conn.execute("UPDATE tickets SET status = 'closed'")
    _set_policy(conn, closed_reply_policy="hold")
    reply = _reply(pool, mailbox)
    row = message(conn, reply)
    assert (row["state"], row["ticket_id"], row["reply_to_closed_ticket"]) == ("held", None, True)
    assert row["analysis"]["ticket"]["reason"] == "reply_to_closed_ticket"
    assert row["analysis"]["ticket"]["closed_ticket_id"] == first["id"]
    assert count(conn, "ticket_messages") == 1


def test_contacts_are_found_case_insensitively(pool, conn, mailbox):
    deliver(pool, mail(sender="Alice <Alice@Example.ORG>"), mailbox)
    _reply(pool, mailbox, sender="ALICE@EXAMPLE.org")
    assert conn.execute("SELECT email FROM contacts").fetchall() == [{"email": "alice@example.org"}]


def test_ticket_created_and_replied_events_are_raised_once_each(pool, conn, mailbox):
    conn.execute(
        """INSERT INTO webhooks (org_id, url, events)
           VALUES (%s, 'http://127.0.0.1:9/h', '{ticket.created,ticket.replied}')""",
        (mailbox.org_id,),
    )
    first = _opened(pool, conn, mailbox)
    reply = _reply(pool, mailbox)
    rows = conn.execute(
        "SELECT type, dedupe_key, payload FROM webhook_events ORDER BY created_at"
    ).fetchall()
    assert [(r["type"], r["dedupe_key"]) for r in rows] == [
        ("ticket.created", f"ticket.created:{first['id']}"),
        ("ticket.replied", f"ticket.replied:{reply}"),
    ]
    assert rows[1]["payload"]["number"] == first["number"]
    assert rows[1]["payload"]["contact_email"] == "alice@example.org"
    assert count(conn, "webhook_deliveries") == 2


def test_ticket_stage_returns_event_jobs_and_the_created_action_for_the_auto_reply(
    pool, conn, mailbox, settings
):
    conn.execute(
        "INSERT INTO webhooks (org_id, url, events) VALUES (%s, 'http://127.0.0.1:9/h', '{ticket.created}')",
        (mailbox.org_id,),
    )
    _set_policy(conn, unmatched_policy="hold")
    held = deliver(pool, mail(), mailbox)
    _set_policy(conn, unmatched_policy="create_ticket")
    with pool.connection() as tx, tx.transaction():
        msg = messages.get(tx, mailbox.org_id, held)
        outcome = ticket.run(tx, msg, StageContext(settings))
    assert outcome.evidence["action"] == "created"
    assert [job.actor for job in outcome.jobs] == ["deliver_webhook"]


def test_held_mail_is_converted_through_the_public_open_ticket_and_add_reply(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    _set_policy(conn, unmatched_policy="hold")
    held = deliver(pool, mail("Another matter", message_id="<held@example.org>"), mailbox)
    stray = deliver(pool, mail("Loose note", sender="bob@example.org", message_id="<n@x>"), mailbox)
    with pool.connection() as tx, tx.transaction():
        opened = ticket.open_ticket(tx, messages.get(tx, mailbox.org_id, held), customer_id=None)
        again = ticket.open_ticket(tx, messages.get(tx, mailbox.org_id, held))
        replied = ticket.add_reply(tx, messages.get(tx, mailbox.org_id, stray), first["id"], {})
    assert (
        opened.evidence["ticket_id"] == again.evidence["ticket_id"] == ticket_of(conn, held)["id"]
    )
    assert replied.evidence == {"action": "replied", "ticket_id": first["id"]}
    assert ticket_of(conn, stray)["exchange_count"] == 2
    assert count(conn, "tickets") == 2


def test_ticket_stage_falls_back_to_references_without_a_thread_decision(pool, conn, mailbox):
    first = _opened(pool, conn, mailbox)
    _set_policy(conn, unmatched_policy="hold")
    reply = _reply(pool, mailbox)
    conn.execute("UPDATE messages SET ticket_id = NULL, analysis = '{}' WHERE id = %s", (reply,))
    conn.execute("DELETE FROM ticket_messages WHERE message_id = %s", (reply,))
    with pool.connection() as tx, tx.transaction():
        outcome = ticket.route(tx, messages.get(tx, mailbox.org_id, reply))
    assert outcome.evidence["rule"] == "references"
    assert outcome.evidence["ticket_id"] == first["id"]


def test_ticket_subject_is_sanitised(pool, conn, mailbox):
    created = _opened(pool, conn, mailbox)
    assert created["subject"] == "Printer on fire"
    assert ticket.clean_subject("  a\x00b\tc\u200b  ") == "a b c"
    assert ticket.clean_subject("") == "(no subject)"


def test_ticket_stage_runs_twice_on_a_reply_changes_nothing(pool, conn, mailbox, settings):
    _opened(pool, conn, mailbox)
    reply = _reply(pool, mailbox)
    before = snapshot(conn)
    rerun(pool, conn, settings, reply, "ticket")
    assert snapshot(conn) == before


def test_ticket_stage_runs_twice_on_a_held_mail_changes_nothing(pool, conn, mailbox, settings):
    _set_policy(conn, unmatched_policy="hold")
    held = deliver(pool, mail(), mailbox)
    before = snapshot(conn)
    rerun(pool, conn, settings, held, "ticket")
    assert snapshot(conn) == before
    assert message(conn, held)["state"] == "held"
