"""Mailgun Routes posts: signatures, freshness, replays and malformed fields are refused."""

from __future__ import annotations

import time

import pytest

from tests.intake import provider_payloads as pp
from tests.intake.test_provider_equivalence import SIGNING_KEY, sample_mail

RECIPIENT = "support@example.com"


@pytest.fixture
def endpoint(conn, mailbox):
    return pp.make_endpoint(conn, mailbox, "mailgun", SIGNING_KEY)


def raw_form(**changes) -> dict:
    return pp.mailgun_raw(sample_mail(), RECIPIENT) | changes


def assert_refused(response, status: int, field: str | None, conn) -> None:
    assert response.status_code == status, response.json
    assert response.json["success"] is False
    assert response.json.get("field") == field
    assert pp.message_count(conn) == 0


def test_a_signed_raw_post_is_stored(client, conn, endpoint):
    response = client.post(endpoint.path, data=raw_form() | pp.mailgun_sign(SIGNING_KEY))
    assert response.status_code == 200
    assert pp.message_count(conn) == 1


def test_a_forged_signature_is_refused_with_406(client, conn, endpoint):
    signed = pp.mailgun_sign("not-the-signing-key")
    response = client.post(endpoint.path, data=raw_form() | signed)
    assert_refused(response, 406, "signature", conn)


@pytest.mark.parametrize("missing", ["timestamp", "token", "signature"])
def test_a_missing_signature_field_is_refused_with_406(client, conn, endpoint, missing):
    signed = pp.mailgun_sign(SIGNING_KEY)
    del signed[missing]
    response = client.post(endpoint.path, data=raw_form() | signed)
    assert_refused(response, 406, missing, conn)


@pytest.mark.parametrize("offset", [-600, 600])
def test_a_stale_or_future_timestamp_is_refused_with_406(client, conn, endpoint, offset):
    signed = pp.mailgun_sign(SIGNING_KEY, timestamp=int(time.time()) + offset)
    response = client.post(endpoint.path, data=raw_form() | signed)
    assert_refused(response, 406, "timestamp", conn)


def test_a_replayed_token_is_refused_with_406_and_stored_once(client, conn, endpoint):
    signed = pp.mailgun_sign(SIGNING_KEY)
    first = client.post(endpoint.path, data=raw_form() | signed)
    again = client.post(endpoint.path, data=raw_form() | signed)
    assert first.status_code == 200
    assert again.status_code == 406
    assert again.json["field"] == "signature"
    assert pp.message_count(conn) == 1


def test_a_replay_recut_as_a_float_timestamp_and_shorter_token_is_refused(client, conn, endpoint):
    """The attack: ``timestamp + "e0"`` and ``token[2:]`` sign the same string."""
    signed = pp.mailgun_sign(SIGNING_KEY, token="e0" + "5f" * 24)
    assert client.post(endpoint.path, data=raw_form() | signed).status_code == 200
    recut = signed | {"timestamp": signed["timestamp"] + "e0", "token": signed["token"][2:]}
    again = client.post(endpoint.path, data=raw_form() | recut)
    assert again.status_code == 406
    assert pp.message_count(conn) == 1


def test_a_replay_with_the_signature_in_upper_case_is_refused(client, conn, endpoint):
    signed = pp.mailgun_sign(SIGNING_KEY)
    assert client.post(endpoint.path, data=raw_form() | signed).status_code == 200
    shouted = signed | {"signature": signed["signature"].upper()}
    again = client.post(endpoint.path, data=raw_form() | shouted)
    assert (again.status_code, again.json["field"]) == (406, "signature")
    assert pp.message_count(conn) == 1


@pytest.mark.parametrize("shape", ["{}e0", "{}.0", "{}.5", " {}", "+{}", "0x{:x}"])
def test_a_correctly_signed_timestamp_that_is_not_whole_seconds_is_refused(
    client, conn, endpoint, shape
):
    timestamp, token = shape.format(int(time.time())), "ab" * 25
    signature = pp.signature_for(SIGNING_KEY, timestamp, token)
    signed = {"timestamp": timestamp, "token": token, "signature": signature}
    response = client.post(endpoint.path, data=raw_form() | signed)
    assert_refused(response, 406, "timestamp", conn)


def test_a_refused_post_does_not_burn_its_token_for_the_retry(client, conn, endpoint):
    signed = pp.mailgun_sign(SIGNING_KEY)
    form = raw_form()
    del form["recipient"]
    assert client.post(endpoint.path, data=form | signed).status_code == 422
    assert client.post(endpoint.path, data=raw_form() | signed).status_code == 200


def test_an_unknown_endpoint_token_is_404(client, conn, endpoint):
    response = client.post(
        "/hooks/inbound/mailgun/ie_nope", data=raw_form() | pp.mailgun_sign(SIGNING_KEY)
    )
    assert_refused(response, 404, None, conn)


def test_a_token_used_under_another_provider_is_404(client, conn, endpoint):
    path = endpoint.path.replace("/mailgun/", "/postmark/")
    response = client.post(path, json=pp.postmark(sample_mail(), RECIPIENT))
    assert_refused(response, 404, None, conn)


def test_an_endpoint_without_signing_key_refuses_everything(client, conn, mailbox):
    endpoint = pp.make_endpoint(conn, mailbox, "mailgun", None)
    response = client.post(endpoint.path, data=raw_form() | pp.mailgun_sign(SIGNING_KEY))
    assert_refused(response, 406, "signature", conn)


def test_a_missing_recipient_is_422(client, conn, endpoint):
    form = raw_form()
    del form["recipient"]
    response = client.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))
    assert_refused(response, 422, "recipient", conn)


def test_a_parsed_post_without_message_headers_is_422(client, conn, endpoint):
    form = pp.mailgun_parsed(sample_mail(), RECIPIENT)
    del form["message-headers"]
    response = client.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))
    assert_refused(response, 422, "message-headers", conn)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("message-headers", "[[not json"),
        ("message-headers", '{"Subject": "a dict, not pairs"}'),
        ("message-headers", '[["Subject"]]'),
        ("content-id-map", "[1, 2]"),
        ("attachment-count", "three"),
    ],
)
def test_malformed_parsed_fields_are_422_naming_the_field(client, conn, endpoint, field, value):
    form = pp.mailgun_parsed(sample_mail(), RECIPIENT) | {field: value}
    response = client.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))
    assert_refused(response, 422, field, conn)


def test_an_announced_attachment_that_is_missing_is_422(client, conn, endpoint):
    form = pp.mailgun_parsed(sample_mail(), RECIPIENT)
    del form["attachment-3"]
    response = client.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))
    assert_refused(response, 422, "attachment-3", conn)


def test_a_message_over_the_size_limit_is_413(app, conn, endpoint):
    form = raw_form()
    limit = len(form["body-mime"]) - 1
    with pp.overridden(app, max_message_bytes=limit) as small:
        response = small.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))
    assert_refused(response, 413, "message", conn)


def test_a_request_body_far_over_the_limit_is_413_before_parsing(app, conn, endpoint):
    form = raw_form(padding="x" * 5000) | pp.mailgun_sign(SIGNING_KEY)
    with pp.overridden(app, max_message_bytes=1000) as small:
        response = small.post(endpoint.path, data=form)
    assert response.status_code == 413
    assert response.json["success"] is False
    assert pp.message_count(conn) == 0


def test_the_endpoint_decides_the_organization_not_the_recipient(client, conn, endpoint):
    from pipeline.store import mailboxes
    from tests.helpers import make_org

    other = make_org(conn, "Globex")
    mailboxes.create(conn, other.org_id, "help@globex.test")
    form = raw_form(recipient="help@globex.test")
    response = client.post(endpoint.path, data=form | pp.mailgun_sign(SIGNING_KEY))
    row = conn.execute("SELECT org_id FROM messages WHERE id = %s", (response.json["id"],))
    assert row.fetchone()["org_id"] == endpoint.org_id


def test_another_organizations_signing_key_does_not_open_this_endpoint(client, conn, endpoint):
    from pipeline.store import mailboxes
    from tests.helpers import make_org

    other = make_org(conn, "Globex")
    box = mailboxes.create(conn, other.org_id, "help@globex.test")
    pp.make_endpoint(conn, box, "mailgun", "globex-signing-key")
    response = client.post(endpoint.path, data=raw_form() | pp.mailgun_sign("globex-signing-key"))
    assert_refused(response, 406, "signature", conn)


def test_accepted_mail_is_enqueued_for_the_first_stage(client, conn, endpoint, settings):
    import redis

    client.post(endpoint.path, data=raw_form() | pp.mailgun_sign(SIGNING_KEY))
    queued = redis.Redis.from_url(settings.redis_url).hlen(
        f"{settings.redis_namespace}:dramatiq:pipeline.msgs"
    )
    assert queued == 1


def test_a_body_mime_larger_than_flasks_form_field_default_is_accepted(client, conn, endpoint):
    msg = sample_mail()
    msg.add_attachment(bytes(700_000), "application", "octet-stream", filename="big.bin")
    form = pp.mailgun_raw(msg, RECIPIENT) | pp.mailgun_sign(SIGNING_KEY)
    assert len(form["body-mime"]) > 500_000
    assert client.post(endpoint.path, data=form).status_code == 200


def test_body_mime_is_stored_byte_for_byte_even_when_not_utf8(client, conn, endpoint):
    raw = b"From: a@example.org\r\nSubject: caf\xe9\r\n\r\nGr\xfc\xdfe aus K\xf6ln\r\n"
    fields = {"recipient": RECIPIENT, "sender": "a@example.org", "body-mime": raw}
    body, ctype = pp.form_data(fields | pp.mailgun_sign(SIGNING_KEY))
    response = client.post(endpoint.path, data=body, content_type=ctype)
    assert response.status_code == 200, response.json
    stored = conn.execute(
        "SELECT b.data FROM messages m JOIN blobs b ON b.sha256 = m.raw_sha256"
    ).fetchone()
    assert bytes(stored["data"]) == raw


def test_an_urlencoded_post_is_accepted(client, conn, endpoint):
    form = raw_form() | pp.mailgun_sign(SIGNING_KEY)
    response = client.post(
        endpoint.path, data=form, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200, response.json
    assert pp.message_count(conn) == 1


def forged_form(total_bytes: int, parts: int) -> tuple[str, bytes]:
    """A form of ``parts`` attachments, its (forged) signature fields last."""
    boundary = b"forged-boundary"
    chunk = b"A" * (total_bytes // parts)
    out = [b'--%s\r\nContent-Disposition: form-data; name="recipient"\r\n\r\n%s\r\n' % (
        boundary, RECIPIENT.encode())]  # fmt: skip
    for i in range(parts):
        out.append(
            b'--%s\r\nContent-Disposition: form-data; name="attachment-%d"; filename="f%d"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n%s\r\n" % (boundary, i, i, chunk)
        )
    for name, value in pp.mailgun_sign("not-the-signing-key").items():
        out.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (boundary, name.encode(), value.encode())
        )
    out.append(b"--%s--\r\n" % boundary)
    return f"multipart/form-data; boundary={boundary.decode()}", b"".join(out)


def test_a_34_mb_forged_form_is_refused_before_the_form_is_parsed(
    client, conn, endpoint, monkeypatch
):
    from web.hooks import forms

    parsed = []
    full_parse = forms.form_fields
    monkeypatch.setattr(forms, "form_fields", lambda *a: parsed.append(a) or full_parse(*a))
    content_type, body = forged_form(34 * 1024 * 1024, 20_000)
    started = time.monotonic()
    response = client.post(endpoint.path, data=body, content_type=content_type)
    assert_refused(response, 406, "signature", conn)
    assert parsed == []  # no field or attachment was built
    assert time.monotonic() - started < 10  # the full parse of such forms took 32 s


def test_a_signed_form_whose_signature_comes_after_its_attachments_is_stored(
    client, conn, endpoint
):
    form = pp.mailgun_parsed(sample_mail(), RECIPIENT) | pp.mailgun_sign(SIGNING_KEY)
    response = client.post(endpoint.path, data=form)
    assert response.status_code == 200, response.json
    assert pp.message_count(conn) == 1
