"""The provider webhooks, fed hostile values in each field of a valid post one at a time,
answer below 500 with a JSON error (or store the mail): form fields of Mailgun and SendGrid,
Postmark's JSON, and the fields of Mailgun's signed event posts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.intake import provider_payloads as pp
from tests.intake.test_provider_equivalence import SIGNING_KEY, sample_mail
from tests.web.test_delivery_events import EVENT_DATA, acme, mailgun_event  # noqa: F401

RECIPIENT = "support@example.com"
URLENCODED = "application/x-www-form-urlencoded"
FORM_VALUES = ["", "\x00", "²", "9" * 30, "nan", "-1", "[" * 5000, "{}", "\ud800", "x" * 10_000]
JSON_VALUES: list[Any] = [
    "",
    "\x00",
    "²",
    "9" * 30,
    2**70,
    -1,
    1e300,
    None,
    [],
    {},
    "\ud800",
    "x\r\nBcc: e@example.org",
]


def problem(response, what: str) -> str | None:
    if response.status_code >= 500:
        return f"{response.status_code} {what}: {response.get_data(as_text=True)[:200]}"
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return f"{response.status_code} without a JSON body: {what}"
    return None


def form_cases(form: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    return [
        (f"{name}={value[:20]!r}", form | {name: value}) for name in form for value in FORM_VALUES
    ]


def test_mailgun_inbound_form_fields_in_either_encoding(client, conn, mailbox):
    endpoint = pp.make_endpoint(conn, mailbox, "mailgun", SIGNING_KEY)
    form = pp.mailgun_raw(sample_mail(), RECIPIENT) | pp.mailgun_sign(SIGNING_KEY)
    problems = []
    for what, data in form_cases(form):
        data = {k: v.encode("utf-8", "surrogatepass") for k, v in data.items()}
        for body, ctype in (pp.form_data(data), (urlencode(data).encode(), URLENCODED)):
            found = problem(client.post(endpoint.path, data=body, content_type=ctype), what)
            problems += [found] if found else []
    assert not problems, "\n".join(problems)


def test_sendgrid_inbound_form_fields(client, conn, mailbox):
    endpoint = pp.make_endpoint(conn, mailbox, "sendgrid", None)
    form, _ = pp.sendgrid_parsed(sample_mail(), RECIPIENT)
    problems = []
    for what, data in form_cases({k: str(v) for k, v in form.items()}):
        data = {k: v.encode("utf-8", "surrogatepass") for k, v in data.items()}
        body, ctype = pp.form_data(data)
        found = problem(client.post(endpoint.path, data=body, content_type=ctype), what)
        problems += [found] if found else []
    assert not problems, "\n".join(problems)


def test_postmark_inbound_json_fields(client, conn, mailbox):
    endpoint = pp.make_endpoint(conn, mailbox, "postmark", None)
    payload = pp.postmark(sample_mail(), RECIPIENT)
    problems = []
    for name in payload:
        for value in JSON_VALUES:
            response = client.post(endpoint.path, json=payload | {name: value})
            found = problem(response, f"{name}={str(value)[:20]!r}")
            problems += [found] if found else []
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", EVENT_DATA)
def test_mailgun_event_fields(client, conn, acme, path):  # noqa: F811
    problems = []
    base = mailgun_event(path)
    for part in ("signature", "event-data"):
        for name in base[part]:
            for value in JSON_VALUES:
                body = mailgun_event(path)
                body[part] = body[part] | {name: value}
                found = problem(client.post(f"/{path}", json=body), f"{part}.{name}={value!r:.20}")
                problems += [found] if found else []
    assert not problems, "\n".join(problems)
