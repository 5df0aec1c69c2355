"""The listener's faster protocol code answers exactly as aiosmtpd's own does."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiosmtpd.smtp import SMTP

from pipeline.intake.smtp import PLAIN_PATH, IntakeSMTP

PATHS = [
    "<alice@example.org>",
    "<Alice.Smith+tag@Mail.Example.ORG>",
    "<o'brien@example.ie>",
    "<a@b> SIZE=1234",
    "<a@b>\tBODY=8BITMIME  SIZE=1",
    "<a@b>   (comment) SIZE=1",
    "<a@b>(comment)",
    "<>",
    "<> SIZE=10",
    '<"quoted local"@example.org>',
    "<@relay.example:user@example.org>",
    "<a..b@example.org>",
    "<.a@example.org>",
    "<a.@example.org>",
    "<a@[192.0.2.1]>",
    "<a@b.>",
    "<a @b>",
    "<a@b",
    "<josé@example.org>",
    "<a@b>x",
    "<a@b> ",
    "<a@b>>",
    "alice@example.org",
    "alice@example.org SIZE=1",
    "<a(b)@c>",
    "<a@b@c>",
    "",
]


@pytest.fixture(scope="module")
def server():
    loop = asyncio.new_event_loop()
    yield IntakeSMTP(object(), loop=loop)
    loop.close()


def aiosmtpd_getaddr(server: IntakeSMTP, arg: str):
    try:
        return SMTP._getaddr(server, arg)
    except Exception as exc:  # the same failure is expected of the fast path too
        return type(exc)


def intake_getaddr(server: IntakeSMTP, arg: str):
    try:
        return server._getaddr(arg)
    except Exception as exc:
        return type(exc)


@pytest.mark.parametrize("arg", PATHS)
def test_paths_parse_as_aiosmtpd_parses_them(server, arg):
    assert intake_getaddr(server, arg) == aiosmtpd_getaddr(server, arg)


def test_plain_paths_take_the_fast_path():
    assert PLAIN_PATH.fullmatch("<Alice.Smith+tag@Mail.Example.ORG> SIZE=1")
    assert not PLAIN_PATH.fullmatch("<a@b> (comment)")


def test_random_paths_parse_as_aiosmtpd_parses_them(server):
    pieces = ["a", "Bob", "9", "o'k", "+t", "x-y", ".", "..", '"q"', " ", "\t", "(c)", "é"]
    pieces += ["[1.2.3.4]", "\\", "@", "{", "|", "~", "=", "%", "<", ">", ","]
    tails = ["", " ", "  SIZE=100", "\tBODY=8BITMIME", " (c) SIZE=1", " )x", "x", " \t a b"]
    rng = random.Random(5321)
    for _ in range(20_000):
        local = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 4)))
        domain = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 4)))
        arg = f"<{local}@{domain}>{rng.choice(tails)}"
        assert intake_getaddr(server, arg) == aiosmtpd_getaddr(server, arg), arg
