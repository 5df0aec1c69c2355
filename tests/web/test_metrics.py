"""``/metrics`` is the operator's: off without ``INTAKE_METRICS_TOKEN``, and then only for
that token; no organization's API key opens it."""

from __future__ import annotations

import pytest

from tests.intake import provider_payloads as pp

TOKEN = "metrics-operator-token"


@pytest.fixture
def scraper(app):
    with pp.overridden(app, metrics_token=TOKEN) as client:
        yield client


def test_metrics_are_off_while_no_token_is_configured(client, org):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=org.headers).status_code == 404


def test_the_operator_token_reads_the_metrics(scraper):
    response = scraper.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert "# TYPE intake_messages gauge" in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["none", "wrong", "basic", "tenant_key", "tenant_bearer"])
def test_without_the_operator_token_metrics_are_401(scraper, org, kind):
    headers = {
        "none": {},
        "wrong": {"Authorization": "Bearer not-the-token"},
        "basic": {"Authorization": "Basic " + "b3BlcmF0b3I6bWV0cmljcy1vcGVyYXRvci10b2tlbg=="},
        "tenant_key": org.headers,
        "tenant_bearer": {"Authorization": f"Bearer {org.key.token}"},
    }[kind]
    response = scraper.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.json["success"] is False
    assert "intake_messages" not in response.get_data(as_text=True)
