"""``intake endpoint create``: prints the path and secret a provider is configured with."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.intake import provider_payloads as pp
from tests.intake.test_provider_equivalence import sample_mail


def intake(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_a_created_sendgrid_endpoint_accepts_mail_with_its_printed_secret(client, conn, mailbox):
    result = intake("endpoint", "create", "--mailbox", str(mailbox.id), "--provider", "sendgrid")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert created["path"].startswith("/hooks/inbound/sendgrid/ie_")
    assert created["mailbox_id"] == mailbox.id
    stored = conn.execute("SELECT secret_enc FROM inbound_endpoints").fetchone()["secret_enc"]
    assert created["secret"].encode() not in bytes(stored)
    body, ctype = pp.form_data(*pp.sendgrid_raw(sample_mail(), "support@example.com"))
    response = client.post(
        created["path"], data=body, content_type=ctype, headers=pp.basic_auth(created["secret"])
    )
    assert response.status_code == 200


def test_a_mailgun_endpoint_needs_the_signing_key(mailbox):
    result = intake("endpoint", "create", "--mailbox", str(mailbox.id), "--provider", "mailgun")
    assert result.returncode != 0
    assert "signing key" in result.stderr


def test_a_mailgun_endpoint_keeps_the_given_signing_key(mailbox):
    result = intake(
        "endpoint", "create", "--mailbox", str(mailbox.id), "--provider", "mailgun",
        "--secret", "key-abc",
    )  # fmt: skip
    assert json.loads(result.stdout)["secret"] == "key-abc"


def test_an_unknown_mailbox_is_an_error(mailbox):
    result = intake("endpoint", "create", "--mailbox", "999999", "--provider", "postmark")
    assert result.returncode != 0
    assert "no mailbox" in result.stderr


def test_an_endpoint_without_secret_can_be_asked_for(mailbox):
    result = intake(
        "endpoint", "create", "--mailbox", str(mailbox.id), "--provider", "postmark", "--no-secret"
    )
    assert json.loads(result.stdout)["secret"] is None
