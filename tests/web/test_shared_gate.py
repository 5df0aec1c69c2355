"""Every family that takes API keys passes one gate: authenticate, rate-limit, scope, raw
input. The ``003`` path keys and the ``004`` Bearer tokens used to skip the rate limits."""

from __future__ import annotations

import pytest

from pipeline.store import keys
from tests.web.family_helpers import bearer, make_agent

USER = "agent-7878"


@pytest.fixture
def tight(conn, org):
    """A key of every scope allowed three requests a minute."""
    make_agent(conn, org.org_id, "agent1@company.com", "Agent1 Name", USER)
    return keys.create_key(conn, org.org_id, list(keys.SCOPES), "Tight", 3, 100)


def exhaust(send) -> list:
    return [send() for _ in range(4)]


def assert_limited(answers) -> None:
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    refused = answers[-1]
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_an_exhausted_path_key_gets_429_on_the_message_api(client, tight):
    path = f"/message/listTickets/{tight.token}/{USER}"
    answers = exhaust(lambda: client.get(path))
    assert_limited(answers)
    assert answers[-1].json["result"] == "error"


def test_an_exhausted_token_gets_429_on_the_mail_admin_api(client, tight):
    answers = exhaust(lambda: client.post("/api/v1/mail/mailboxes", headers=bearer(tight.token)))
    assert_limited(answers)
    assert "message" in answers[-1].json


def test_the_families_share_one_budget_per_key(client, tight):
    """A key cannot get three requests from each family: the count is the key's."""
    client.get(f"/message/listTickets/{tight.token}/{USER}")
    client.post("/api/v1/mail/mailboxes", headers=bearer(tight.token))
    client.get("/api/v1/incoming_mails", headers=bearer(tight.token))
    assert client.get("/api/emails", headers=bearer(tight.token)).status_code == 429


def test_nul_characters_are_refused_on_the_message_api_in_its_envelope(client, tight):
    answer = client.get(f"/message/listTickets/{tight.token}/{USER}?fromEmail=a%00b")
    assert answer.status_code == 422
    assert answer.json["result"] == "error"


def test_nul_characters_are_refused_on_the_mail_admin_api(client, tight):
    answer = client.post(
        "/api/v1/mail/mailboxes/create",
        json={"name": "x\u0000", "address": "x@example.test"},
        headers=bearer(tight.token),
    )
    assert answer.status_code == 422
