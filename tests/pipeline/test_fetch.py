"""Fetching URLs for clients: public addresses only, bounded, redirects re-checked."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.fetch import fetch, is_public
from tests.files import Reply


def answer(path: str) -> Reply:
    if path == "/redirect-loopback":
        return Reply(status=302, headers={"Location": "http://127.0.0.1:1/secret"})
    return Reply(b"x" * 5000 if path == "/big" else b"hello", "text/plain")


@pytest.fixture
def server(serve_files):
    return serve_files(answer)


def test_fetch_returns_body_type_and_name_when_private_targets_are_allowed(server):
    fetched = fetch(f"{server}/files/report.txt", max_bytes=100, allow_private=True)
    assert (fetched.data, fetched.content_type, fetched.filename) == (
        b"hello",
        "text/plain",
        "report.txt",
    )


def test_loopback_is_refused_unless_allowed(server):
    with pytest.raises(InputError) as caught:
        fetch(f"{server}/x", max_bytes=100, field="attachments[0].url")
    assert caught.value.status == 422
    assert caught.value.field == "attachments[0].url"


def test_size_limit_is_enforced(server):
    with pytest.raises(InputError) as caught:
        fetch(f"{server}/big", max_bytes=100, allow_private=True)
    assert caught.value.status == 413


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "http:///nohost"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(InputError):
        fetch(url, max_bytes=100)


@pytest.mark.parametrize(
    "address,public",
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("192.168.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
    ],
)
def test_address_classification(address, public):
    assert is_public(address) is public
