"""Reply tokens: a signed plus-address names one ticket of one organization."""

from uuid import uuid4

from pipeline.mail.reply_tokens import reply_address, token_of, verify_token

KEY = "secret"


def test_reply_address_round_trips_to_its_ticket():
    org = uuid4()
    address = reply_address("support@acme.test", KEY, org, 42)
    assert address.startswith("support+42-") and address.endswith("@acme.test")
    assert verify_token(KEY, org, token_of(address)) == 42


def test_tokens_survive_case_folding_by_mail_servers():
    org = uuid4()
    address = reply_address("support@acme.test", KEY, org, 7).upper()
    assert verify_token(KEY, org, token_of(address)) == 7


def test_forged_moved_or_foreign_tokens_are_rejected():
    org = uuid4()
    token = token_of(reply_address("support@acme.test", KEY, org, 42))
    signature = token.split("-")[1]
    assert verify_token(KEY, org, f"43-{signature}") is None
    assert verify_token(KEY, uuid4(), token) is None
    assert verify_token("other-key", org, token) is None
    assert verify_token(KEY, org, "42") is None
    assert token_of("support@acme.test") is None
