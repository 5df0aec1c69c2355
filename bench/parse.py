"""CPU cost of ``pipeline.mail.mime.parse`` per message, for four kinds of mail.

    .venv/bin/python bench/parse.py [-n 300] [--cpu] [--profile KIND]

Kinds: ``bench`` (the end-to-end benchmark's 10 KB multipart/mixed with a base64
attachment, ``make_message`` in ``bench/e2e.py``), ``reply`` (a plain-text reply with
quoted history and the trace headers real mail carries), ``newsletter`` (HTML only,
quoted-printable) and ``alternative`` (multipart/related: text and HTML alternatives and an
inline image). Prints the best of seven runs of ``-n`` parses each, in ms per message
(the least disturbed by other processes on the machine), timed with ``time.perf_counter``;
``--cpu`` times with ``time.process_time`` instead, this process's CPU time only, which
other load on a busy machine disturbs less.
``--profile KIND`` prints a cProfile of that kind instead.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import pstats
import quopri
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.mail.mime import parse  # noqa: E402

LOREM = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
FILLER = (LOREM * 130)[:7000]
ATTACHMENT = base64.encodebytes((bytes(range(256)) * 6)[:1500]).decode()  # as in e2e.py
PNG = base64.encodebytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16).decode()

TRACE = (
    "Received: from mail-wr1-f41.google.com (mail-wr1-f41.google.com [209.85.221.41])\r\n"
    "\tby mx.example.com (Postfix) with ESMTPS id 4TdQ2x1r5Kz9sXB\r\n"
    "\tfor <support@example.com>; Mon, 15 Jan 2024 10:31:02 +0000 (UTC)\r\n"
    "Received: by mail-wr1-f41.google.com with SMTP id ffacd0b85a97d-337b8da1f49so1\r\n"
    "        for <support@example.com>; Mon, 15 Jan 2024 02:31:01 -0800 (PST)\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=20230601;\r\n"
    "        h=to:subject:message-id:date:from:in-reply-to:references:mime-version;\r\n"
    "        bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\r\n"
    "        b=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9v\r\n"
    "Authentication-Results: mx.example.com; dkim=pass header.d=example.org;\r\n"
    "        spf=pass smtp.mailfrom=customer@example.org; dmarc=pass header.from=example.org\r\n"
    "X-Google-Smtp-Source: AGHT+IFtm1K3n8JmB0x2mQ9Qw3wq7yY1Zr4F0b7c8d9e0f1a2b3c4d5e6f7a8\r\n"
    "X-Received: by 2002:a05:600c:4fd4:b0:40e:4ad1:7b1f with SMTP id o20mr12345;\r\n"
    "        Mon, 15 Jan 2024 02:31:01 -0800 (PST)\r\n"
)


def bench_message() -> bytes:
    """The end-to-end benchmark's message (``bench/e2e.py``), with a fixed attachment."""
    return (
        "From: Customer 7 <customer7@bench.example>\r\n"
        "To: support@bench.example\r\n"
        "Subject: Benchmark request 7\r\n"
        "Message-ID: <bench-run-7@bench.example>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello, this is request 7.\r\n{FILLER}\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="log.bin"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{ATTACHMENT}\r\n--b--\r\n"
    ).encode()


def reply_message() -> bytes:
    """A Gmail-style plain-text reply with two levels of quoted history."""
    quoted = "\r\n".join(f"> {LOREM.strip()} {n}" for n in range(12))
    deeper = "\r\n".join(f"> > Earlier question line {n}, about the invoice." for n in range(8))
    return (
        TRACE + "From: =?UTF-8?Q?Ren=C3=A9e_Dupont?= <renee@example.org>\r\n"
        "To: Support <support@example.com>\r\n"
        'Cc: boss@example.org, "Accounts" <accounts@example.org>\r\n'
        "Subject: Re: =?UTF-8?Q?Facture_impay=C3=A9e?= [#1234]\r\n"
        "Date: Mon, 15 Jan 2024 11:31:00 +0100\r\n"
        "Message-ID: <CAF=abc123def456@mail.gmail.com>\r\n"
        "In-Reply-To: <ticket-1234-3@intake.local>\r\n"
        "References: <ticket-1234-1@intake.local> <ticket-1234-2@intake.local>\r\n"
        " <ticket-1234-3@intake.local>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="UTF-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Hello,\r\n\r\nthe invoice is paid now, I attach the bank statement next time.\r\n"
        "Could you confirm that the reminder fee is cancelled?\r\n\r\n"
        "Ren=C3=A9e\r\n\r\n"
        "On Mon, Jan 15, 2024 at 10:30 AM Support <support@example.com> wrote:\r\n\r\n"
        f"{quoted}\r\n>\r\n"
        "> On Fri, Jan 12, 2024 at 9:00 AM Ren=C3=A9e <renee@example.org> wrote:\r\n"
        f"{deeper}\r\n"
    ).encode()


NEWSLETTER_ROW = (
    '<tr><td style="padding:8px;font-family:Arial,sans-serif;color:#333">'
    '<h2 style="margin:0">Article {n}: what is new this month</h2>'
    "<p>{text}</p>"
    '<p><a href="https://news.example.com/a/{n}?utm_source=mail">Read more &rarr;</a></p>'
    "</td></tr>"
)


def newsletter_message() -> bytes:
    """An HTML-only marketing newsletter, quoted-printable, about 12 KB of markup."""
    rows = "".join(NEWSLETTER_ROW.format(n=n, text=LOREM * 3) for n in range(12))
    html = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0}'
        '</style></head><body><table width="600" cellpadding="0" cellspacing="0">'
        f"{rows}<tr><td><small>Unsubscribe: https://news.example.com/u/xyz</small>"
        "</td></tr></table></body></html>"
    )
    body = quopri.encodestring(html.encode()).decode().replace("\n", "\r\n")
    return (
        TRACE + "From: Example News <news@news.example.com>\r\n"
        "To: support@example.com\r\n"
        "Subject: =?utf-8?B?8J+TsCBZb3VyIG1vbnRobHkgbmV3cw==?=\r\n"
        "Date: Tue, 16 Jan 2024 06:00:00 +0000\r\n"
        "Message-ID: <20240116060000.1234@news.example.com>\r\n"
        "List-Unsubscribe: <https://news.example.com/u/xyz>, <mailto:u@news.example.com>\r\n"
        "List-Id: Example News <news.example.com>\r\n"
        "Precedence: bulk\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def alternative_message() -> bytes:
    """multipart/related: text and HTML alternatives plus an inline image by Content-ID."""
    text = "Hi,\r\n\r\nthe logo in the footer looks wrong, see below.\r\n\r\nMarc\r\n"
    html = (
        "<html><body><p>Hi,</p><p>the logo in the footer looks wrong, see below.</p>"
        '<p><img src="cid:ii_lr1@example.org" alt="logo"></p><p>Marc</p></body></html>'
    )
    return (
        TRACE + "From: Marc <marc@example.org>\r\n"
        "To: support@example.com\r\n"
        "Subject: Logo looks wrong\r\n"
        "Date: Tue, 16 Jan 2024 09:12:00 +0100\r\n"
        "Message-ID: <CAMarc123@mail.gmail.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/related; boundary="rel"\r\n\r\n'
        '--rel\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        '--alt\r\nContent-Type: text/plain; charset="UTF-8"\r\n\r\n'
        f"{text}\r\n"
        '--alt\r\nContent-Type: text/html; charset="UTF-8"\r\n\r\n'
        f"{html}\r\n--alt--\r\n"
        '--rel\r\nContent-Type: image/png; name="logo.png"\r\n'
        'Content-Disposition: inline; filename="logo.png"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "Content-ID: <ii_lr1@example.org>\r\n"
        "X-Attachment-Id: ii_lr1\r\n\r\n"
        f"{PNG}\r\n--rel--\r\n"
    ).encode()


KINDS: dict[str, Callable[[], bytes]] = {
    "bench": bench_message,
    "reply": reply_message,
    "newsletter": newsletter_message,
    "alternative": alternative_message,
}


def ms_per_message(raw: bytes, n: int, clock: Callable[[], float] = time.perf_counter) -> float:
    """Best of seven runs of ``n`` parses: other load only ever adds time."""
    for _ in range(20):  # warm caches (codecs, regexes, lxml)
        parse(raw)
    runs = []
    for _ in range(7):
        start = clock()
        for _ in range(n):
            parse(raw)
        runs.append((clock() - start) * 1000 / n)
    return min(runs)


def profile(raw: bytes, n: int) -> None:
    profiler = cProfile.Profile()
    profiler.runcall(lambda: [parse(raw) for _ in range(n)])
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=300, help="parses per run")
    parser.add_argument("--cpu", action="store_true", help="time.process_time, not perf_counter")
    parser.add_argument("--profile", choices=sorted(KINDS), help="cProfile one kind")
    args = parser.parse_args()
    if args.profile:
        profile(KINDS[args.profile](), args.n)
        return
    clock = time.process_time if args.cpu else time.perf_counter
    for name, make in KINDS.items():
        raw = make()
        print(f"{name:12} {len(raw):6} bytes  {ms_per_message(raw, args.n, clock):7.3f} ms/message")


if __name__ == "__main__":
    main()
