"""match_thread: each rule, their order, and the evidence recorded for the ticket stage."""

from __future__ import annotations

from pipeline.mail.reply_tokens import make_token, reply_address
from tests.helpers import make_org
from tests.pipeline.mailflow import (
    count,
    decision,
    deliver,
    mail,
    rerun,
    snapshot,
    ticket_of,
)


def _first_ticket(pool, conn, mailbox, **kwargs) -> dict:
    message_id = deliver(pool, mail(**kwargs), mailbox)
    return ticket_of(conn, message_id)


def test_reply_token_in_plus_address_decides_before_headers(pool, conn, mailbox, settings):
    first = _first_ticket(pool, conn, mailbox)
    other = _first_ticket(pool, conn, mailbox, subject="Other", message_id="<other@example.org>")
    address = reply_address(mailbox.address, settings.secret_key, mailbox.org_id, first["id"])
    raw = mail(
        "Something new",
        message_id="<r1@example.org>",
        to=address,
        headers="In-Reply-To: <other@example.org>",
    )
    reply = deliver(pool, raw, mailbox, rcpt=address)
    assert decision(conn, reply)["rule"] == "reply_token"
    assert decision(conn, reply)["evidence"] == {"address": address}
    assert ticket_of(conn, reply)["id"] == first["id"] != other["id"]


def test_reply_token_found_in_cc_header_when_envelope_is_plain(pool, conn, mailbox, settings):
    first = _first_ticket(pool, conn, mailbox)
    address = reply_address(mailbox.address, settings.secret_key, mailbox.org_id, first["id"])
    raw = mail("Hello again", message_id="<r2@example.org>", headers=f"Cc: {address}")
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["rule"] == "reply_token"
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_forged_reply_token_is_rejected_and_recorded(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    forged = f"support+{first['id']}-aaaaaaaaaaaaaaaa@example.com"
    raw = mail("Let me in", sender="mallory@evil.test", message_id="<f@evil.test>", to=forged)
    reply = deliver(pool, raw, mailbox, rcpt=forged)
    found = decision(conn, reply)
    assert found["ticket_id"] is None
    assert {"rule": "reply_token", "address": forged, "why": "bad signature"} in found["rejected"]
    assert ticket_of(conn, reply)["id"] != first["id"]


def test_reply_token_of_another_organization_does_not_verify(pool, conn, mailbox, settings):
    first = _first_ticket(pool, conn, mailbox)
    stranger_org = make_org(conn, "Other Co")
    token = make_token(settings.secret_key, stranger_org.org_id, first["id"])
    address = f"support+{token}@example.com"
    reply = deliver(pool, mail("Hi", message_id="<x@example.org>", to=address), mailbox, address)
    assert decision(conn, reply)["rejected"][0]["why"] == "bad signature"
    assert ticket_of(conn, reply)["id"] != first["id"]


def test_in_reply_to_a_stored_message_matches_its_ticket(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    raw = mail(
        "Re: Printer on fire",
        message_id="<r3@example.org>",
        headers="In-Reply-To: <first@example.org>",
    )
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["rule"] == "references"
    assert decision(conn, reply)["evidence"] == {"message_id": "<first@example.org>"}
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_any_references_id_matching_a_sent_mail_finds_the_ticket(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    conn.execute(
        """INSERT INTO sent_mails (org_id, ticket_id, kind, message_id, from_address,
                                   to_addresses, subject)
           VALUES (%s, %s, 'agent_reply', '<agent-1@intake.local>', 'support@example.com',
                   '{alice@example.org}', 'Re: Printer on fire')""",
        (mailbox.org_id, first["id"]),
    )
    raw = mail(
        "Unrelated words",
        message_id="<r4@example.org>",
        headers="References: <unknown@x> <agent-1@intake.local> <also-unknown@y>",
    )
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["evidence"] == {"message_id": "<agent-1@intake.local>"}
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_references_decide_before_a_subject_token(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    second = _first_ticket(pool, conn, mailbox, subject="Second", message_id="<s@example.org>")
    raw = mail(
        f"About [#{second['number']}]",
        message_id="<r5@example.org>",
        headers="In-Reply-To: <first@example.org>",
    )
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["rule"] == "references"
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_subject_token_from_the_ticket_contact_matches(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox, sender="Alice@Example.ORG")
    raw = mail(f"New question [#{first['number']}]", message_id="<r6@example.org>")
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["rule"] == "subject_token"
    assert decision(conn, reply)["evidence"]["number"] == first["number"]
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_subject_token_from_an_address_with_a_message_on_the_ticket_matches(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    colleague = mail(
        "Re: Printer on fire",
        sender="bob@example.org",
        message_id="<bob-1@example.org>",
        headers="In-Reply-To: <first@example.org>",
    )
    deliver(pool, colleague, mailbox)
    raw = mail(f"Update [#{first['number']}]", sender="bob@example.org", message_id="<bob-2@x>")
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["rule"] == "subject_token"
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_stranger_quoting_a_ticket_number_does_not_land_on_that_ticket(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    raw = mail(
        f"Re: Printer on fire [#{first['number']}]",
        sender="mallory@evil.test",
        message_id="<m@evil.test>",
    )
    stranger = deliver(pool, raw, mailbox)
    found = decision(conn, stranger)
    assert found["ticket_id"] is None
    assert found["rejected"] == [
        {"rule": "subject_token", "number": first["number"], "why": "sender is not a participant"}
    ]
    assert ticket_of(conn, stranger)["id"] != first["id"]
    assert count(conn, "tickets") == 2
    assert ticket_of(conn, stranger)["subject"] == f"Re: Printer on fire [#{first['number']}]"


def test_subject_token_of_an_unknown_ticket_is_recorded_and_ignored(pool, conn, mailbox):
    message_id = deliver(pool, mail("Order [#4242]"), mailbox)
    assert decision(conn, message_id)["rejected"] == [
        {"rule": "subject_token", "number": 4242, "why": "no such ticket"}
    ]
    assert ticket_of(conn, message_id)["number"] == 1


def test_external_ids_are_recorded_but_do_not_link(pool, conn, mailbox):
    conn.execute(
        "INSERT INTO pattern_rules (org_id, key, name, format) VALUES (%s, 'acme', 'Acme', %s)",
        (mailbox.org_id, r"ACME/\d{4}"),
    )
    _first_ticket(pool, conn, mailbox)
    body = "Zendesk #123456, Jira OPS-42, Freshdesk Ticket#777 and our ACME/2024."
    message_id = deliver(pool, mail("Refs", message_id="<p@example.org>", body=body), mailbox)
    found = decision(conn, message_id)
    assert [(p["key"], p["value"]) for p in found["patterns"]] == [
        ("zendesk", "#123456"),
        ("jira", "OPS-42"),
        ("freshdesk", "Ticket#777"),
        ("acme", "ACME/2024"),
    ]
    assert found["ticket_id"] is None
    assert count(conn, "tickets") == 2


def test_open_ticket_of_same_sender_with_same_subject_is_appended(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    raw = mail("AW: [Ext] RE: printer ON fire", message_id="<r7@example.org>")
    reply = deliver(pool, raw, mailbox)
    assert decision(conn, reply)["rule"] == "open_ticket_subject"
    assert decision(conn, reply)["evidence"] == {
        "subject": "printer on fire",
        "sender": "alice@example.org",
    }
    assert ticket_of(conn, reply)["id"] == first["id"]


def test_same_subject_from_another_sender_opens_its_own_ticket(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    raw = mail("Re: Printer on fire", sender="carol@example.org", message_id="<c@example.org>")
    other = deliver(pool, raw, mailbox)
    assert decision(conn, other)["ticket_id"] is None
    assert ticket_of(conn, other)["id"] != first["id"]


def test_same_subject_is_not_appended_when_the_organization_disallows_it(pool, conn, mailbox):
    conn.execute("UPDATE organizations SET append_open_ticket = false")
    first = _first_ticket(pool, conn, mailbox)
    again = deliver(pool, mail("Re: Printer on fire", message_id="<r8@example.org>"), mailbox)
    assert decision(conn, again)["rule"] is None
    assert ticket_of(conn, again)["id"] != first["id"]


def test_same_subject_is_not_appended_to_a_solved_or_closed_ticket(pool, conn, mailbox):
    first = _first_ticket(pool, conn, mailbox)
    for n, status in enumerate(("solved", "closed")):
        conn.execute("UPDATE tickets SET status = %s WHERE id = %s", (status, first["id"]))
        again = deliver(pool, mail("Re: Printer on fire", message_id=f"<s{n}@x>"), mailbox)
        assert decision(conn, again)["rule"] is None
        conn.execute("DELETE FROM tickets WHERE id <> %s", (first["id"],))


def test_match_thread_runs_twice_changes_nothing(pool, conn, mailbox, settings):
    first = _first_ticket(pool, conn, mailbox)
    raw = mail(f"Re: Printer on fire [#{first['number']}]", message_id="<r9@example.org>")
    reply = deliver(pool, raw, mailbox)
    before_rows, before = snapshot(conn), decision(conn, reply)
    again = rerun(pool, conn, settings, reply, "match_thread")
    assert snapshot(conn) == before_rows
    assert again == before
    assert again["ticket_id"] == first["id"]


def test_match_thread_runs_twice_on_an_unlinked_message_decides_the_same(
    pool, conn, mailbox, settings
):
    conn.execute("UPDATE organizations SET unmatched_policy = 'hold'")
    held = deliver(pool, mail("Order [#99] ACME-1"), mailbox)
    before_rows, before = snapshot(conn), decision(conn, held)
    assert rerun(pool, conn, settings, held, "match_thread") == before
    assert snapshot(conn) == before_rows
