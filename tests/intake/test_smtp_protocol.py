"""The listener's faster protocol code answers exactly as aiosmtpd's own does."""

from __future__ import annotations

import asyncio
import random
import time

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


class DataHandler:
    def __init__(self) -> None:
        self.contents: list[bytes] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.contents.append(envelope.original_content)
        return "250 OK"


async def run_data(method, pieces: list[bytes], size_limit: int | None, line_limit: int):
    """Run one DATA command's reading, the stream arriving in ``pieces``; return the
    replies, what the handler got, and what was left unread."""
    from aiosmtpd.smtp import Envelope, Session

    loop = asyncio.get_running_loop()
    handler = DataHandler()
    server = IntakeSMTP(handler, loop=loop, data_size_limit=size_limit)
    server.line_length_limit = line_limit
    server._reader = reader = asyncio.StreamReader(limit=line_limit)
    server.transport = object()
    server.session = Session(loop)
    server.session.host_name = "client.example"
    server.envelope = Envelope()
    server.envelope.rcpt_tos.append("support@example.com")
    replies: list[str] = []

    async def push(status: str) -> None:
        replies.append(status)

    server.push = push

    async def arrive() -> None:
        for piece in pieces:
            reader.feed_data(piece)
            await asyncio.sleep(0)
        reader.feed_eof()

    arriving = asyncio.ensure_future(arrive())
    await asyncio.wait_for(method(server, None), 5)
    await arriving
    return replies, handler.contents, await reader.read()


def both_read(stream: bytes, cuts: list[int], size_limit: int | None, line_limit: int):
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    pieces = [p for p in pieces if p]
    ours = asyncio.run(run_data(IntakeSMTP.smtp_DATA, pieces, size_limit, line_limit))
    theirs = asyncio.run(run_data(SMTP.smtp_DATA, pieces, size_limit, line_limit))
    return ours, theirs


DATA_CASES = [
    b".\r\n",
    b"Hello\r\n.\r\n",
    b"\r\n.\r\n",
    b"\r\r\n.\r\n",
    b"\n.\r\n.\r\n",
    b"a\n.\r\n.\r\n",
    b"..\r\n.x\r\n...\r\n.\r\n",
    b"a\r\n..\r\n.\r\nQUIT\r\n",
    b"a\r\n.\r\n",
    b"x" * 20 + b"\r\n.\r\n",
    b"x" * 14 + b"\r\n.\r\n",
    b"x" * 15 + b"\r\n.\r\n",
    b"x" * 16 + b"\r\n.\r\n",
    b"x" * 17 + b"\r\n.\r\n",
    b"." + b"x" * 16 + b"\r\n.\r\n",
    b"a\r\n" * 20 + b".\r\n",
    b"a\r\n" * 13 + b"x" * 16 + b"\r\n.\r\n",
    b"a\r\n" * 13 + b"x" * 17 + b"\r\n.\r\n",
    b"a\r\nb\r" + b"\r\n.\r\nMAIL FROM:<a@b>\r\n",
]


@pytest.mark.parametrize("stream", DATA_CASES)
@pytest.mark.parametrize("size_limit", [None, 40, 50])
def test_data_is_read_as_aiosmtpd_reads_it(stream, size_limit):
    for cuts in ([], list(range(1, len(stream))), [2, 5, 17, 18, 33]):
        cuts = [c for c in cuts if c < len(stream)]
        ours, theirs = both_read(stream, cuts, size_limit, 16)
        assert ours == theirs, (stream, cuts)


def test_random_data_is_read_as_aiosmtpd_reads_it():
    rng = random.Random(5321)
    lines = [b"", b".", b"..", b".x", b"x", b"\r", b"\n", b"\r\r", b".\r", b"a\nb", b"\rz"]
    lines += [b"y" * k for k in (13, 14, 15, 16, 17, 18, 30, 70)]
    for _ in range(1500):
        body = b"\r\n".join(rng.choice(lines) for _ in range(rng.randint(0, 12)))
        stream = (body + b"\r\n" if body else b"") + b".\r\n" + rng.choice([b"", b"QUIT\r\n"])
        cuts = sorted(rng.sample(range(1, len(stream)), min(len(stream) - 1, rng.randint(0, 8))))
        size_limit = rng.choice([None, 10, 30, 60, 100])
        ours, theirs = both_read(stream, cuts, size_limit, rng.choice([8, 16]))
        assert ours == theirs, (stream, cuts, size_limit)


async def idle_session(timeout: float, pauses: list[float]) -> list[bytes]:
    """Replies seen by a client that sends NOOP after each pause, then waits for EOF."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: IntakeSMTP(DataHandler(), loop=loop, timeout=timeout), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    seen = [await reader.readline()]
    for pause in pauses:
        await asyncio.sleep(pause)
        writer.write(b"NOOP\r\n")
        seen.append(await reader.readline())
    seen.append(await asyncio.wait_for(reader.read(), 5))  # b"" once the server hangs up
    writer.close()
    server.close()
    return seen


def test_an_idle_session_is_closed_after_the_timeout_counted_from_its_last_command():
    started = time.monotonic()
    seen = asyncio.run(idle_session(0.8, [0.4, 0.4, 0.4]))
    assert seen[0].startswith(b"220") and seen[1:4] == [b"250 OK\r\n"] * 3
    assert seen[4] == b""
    assert 2.0 < time.monotonic() - started < 5
