"""Data for the native API tests: a mail with an attachment run through the pipeline, and
one row of every resource an organization owns."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from pipeline.store import deliveries, mailboxes
from tests.helpers import Org, accept, mfs, run_pipeline


def invoice_mail(subject: str = "Invoice", sender: str = "alice@example.org", n: int = 1) -> bytes:
    return mfs(f"""
        From: Alice <{sender}>
        To: support@example.com
        Subject: {subject}
        Message-ID: <inv-{n}-{subject.replace(" ", "-")}@example.org>
        X-Mailer: Tests
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b"

        --b
        Content-Type: text/plain; charset=utf-8

        Please find the invoice for order {n}.
        --b
        Content-Type: application/pdf
        Content-Disposition: attachment; filename*=UTF-8''Facture%20%C3%A9t%C3%A9.pdf
        Content-Transfer-Encoding: base64

        {base64.b64encode(b"%PDF-1.4 invoice").decode()}
        --b--
    """)


def deliver(pool, mailbox, raw: bytes) -> int:
    """Accept ``raw`` for ``mailbox`` and run the whole pipeline; return the email id."""
    message_id = accept(pool, raw, mailbox)
    run_pipeline(pool, message_id)
    return message_id


@dataclass
class World:
    """One of everything an organization owns, by the path parameter names of the API."""

    org: Org
    ids: dict[str, int]
    subject: str


def build_world(conn, pool, org: Org, address: str, subject: str) -> World:
    mailbox = mailboxes.create(conn, org.org_id, address, "Support")
    raw = invoice_mail(subject).replace(b"support@example.com", address.encode())
    email_id = deliver(pool, mailbox, raw)
    one = lambda sql, *args: conn.execute(sql, args).fetchone()["id"]  # noqa: E731
    org_id = org.org_id
    category_id = one(
        "INSERT INTO categories (org_id, name, slug) VALUES (%s, 'Bills', 'bills') RETURNING id",
        org_id,
    )
    conn.execute(
        "INSERT INTO message_categories (message_id, category_id, org_id) VALUES (%s, %s, %s)",
        (email_id, category_id, org_id),
    )
    sent_mail_id = one(
        """INSERT INTO sent_mails (org_id, message_id, from_address, to_addresses, subject)
           VALUES (%s, '<sent-1@intake.local>', 'support@example.com', '{bob@example.org}', %s)
           RETURNING id""",
        org_id,
        subject,
    )
    deliveries.record(
        conn,
        org_id,
        deliveries.DeliveryEvent("delivered", "test", f"ev-{org_id}", "<sent-1@intake.local>"),
    )
    ids = {
        "email_id": email_id,
        "account_id": mailbox.id,
        "mailbox_id": mailbox.id,
        "attachment_id": one("SELECT id FROM attachments WHERE message_id = %s", email_id),
        "ticket_id": one("SELECT id FROM tickets WHERE org_id = %s", org_id),
        "contact_id": one("SELECT id FROM contacts WHERE org_id = %s", org_id),
        "category_id": category_id,
        "category_rule_id": one(
            """INSERT INTO category_rules (org_id, category_id, field, operator, value)
               VALUES (%s, %s, 'subject', 'contains', 'invoice') RETURNING id""",
            org_id,
            category_id,
        ),
        "pattern_rule_id": one(
            """INSERT INTO pattern_rules (org_id, key, name, format)
               VALUES (%s, 'acme', 'Acme', 'ACME-\\d+') RETURNING id""",
            org_id,
        ),
        "customer_id": one(
            "INSERT INTO customers (org_id, name) VALUES (%s, 'Acme Corp') RETURNING id", org_id
        ),
        "agent_id": one(
            """INSERT INTO agents (org_id, email, name, external_id)
               VALUES (%s, %s, 'Agent', 'u-1') RETURNING id""",
            org_id,
            f"agent@{address.split('@')[1]}",
        ),
        "ignored_subject_id": one(
            "INSERT INTO ignored_subjects (org_id, subject) VALUES (%s, 'Spam') RETURNING id",
            org_id,
        ),
        "excluded_email_id": one(
            "INSERT INTO excluded_emails (org_id, email) VALUES (%s, '@spam.test') RETURNING id",
            org_id,
        ),
        "sent_mail_id": sent_mail_id,
        "event_id": one("SELECT id FROM delivery_events WHERE org_id = %s", org_id),
        "key_id": org.key.id,
        "webhook_id": one(
            """INSERT INTO webhooks (org_id, url, events) VALUES (%s, 'https://example.org/h',
               '{email.received}') RETURNING id""",
            org_id,
        ),
        "pattern_id": one(
            """INSERT INTO voicemail_patterns (org_id, name, body_regex)
               VALUES (%s, 'PBX', 'message') RETURNING id""",
            org_id,
        ),
        "config_id": one(
            """INSERT INTO send_configs (org_id, name, host, from_email)
               VALUES (%s, 'Relay', 'smtp.example.org', 'support@example.com') RETURNING id""",
            org_id,
        ),
        "reference": sent_mail_id,
        "voicemail_id": one(
            "INSERT INTO voicemails (org_id, message_id) VALUES (%s, %s) RETURNING id",
            org_id,
            email_id,
        ),
    }
    return World(org, ids, subject)
