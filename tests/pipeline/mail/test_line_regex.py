"""line_regex: searching only where lines start finds exactly what ``re`` finds."""

import random
import re

import pytest
from mailparser_reply.parser import EmailMessage

from pipeline.mail import quotes
from pipeline.mail.line_regex import LineFindall, line_pattern, line_start, starts_at_line

LINES = [
    "",
    " ",
    "Thanks, that fixed it.",
    "> quoted",
    "> > deeper",
    ">",
    "On Mon, Jan 15, 2024 at 10:30 AM Support <support@example.com> wrote:",
    "> On Fri, Jan 12, 2024 R <r@example.org> wrote:",
    "Le lun. 15 janv. 2024 à 10:30, S <s@x.fr> a écrit :",
    "Am 15.01.2024 um 10:30 schrieb S <s@x.de>:",
    "Den mån 15 jan. 2024 kl 10:30 skrev S <s@x.se>:",
    "From: S <s@x.com>",
    "*Sent:* Monday, January 15, 2024 10:30 AM",
    "To: H <h@x.com>",
    "Subject: RE: VPN",
    "Von: S <s@x.de>",
    "Betreff: AW: VPN",
    "De : S <s@x.fr>",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "-- ",
    "_" * 40,
    "Best regards,",
    "Time: 10:30",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
]


def _texts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        lines = [rng.choice(LINES) for _ in range(rng.randint(0, 25))]
        texts.append(rng.choice(["\n", "\r\n", "\n\n"]).join(lines) + rng.choice(["", "\n"]))
    return texts


def test_the_reply_header_pattern_is_tried_only_where_lines_start():
    assert isinstance(quotes._Reply.HEADER_REGEX, LineFindall)


def test_the_reply_patterns_built_once_are_the_librarys_own():
    fresh = EmailMessage(text="", languages=list(quotes.LANGUAGES), keep_hyphen_lists=True)
    built = quotes._library_message(quotes._Reply, "")
    for name in ("HEADER_REGEX", "DISCLAIMERS_REGEX", "SIGNATURE_REGEX"):
        assert getattr(built, name).pattern == getattr(fresh, name).pattern
        assert getattr(built, name).flags == getattr(fresh, name).flags


def test_findall_at_line_starts_equals_findall():
    pattern = quotes._COMPILED.HEADER_REGEX
    fast = LineFindall(pattern)
    for text in _texts(400):
        normalized = quotes._library_message(EmailMessage, text).text
        assert fast.findall(normalized) == pattern.findall(normalized)
        assert fast.findall(text) == pattern.findall(text)


@pytest.mark.parametrize("body", [r"[ \t]*>", r"(?:On|Le)\s[^\n]*:[ \t]*$", r"-{2,}\s*x"])
def test_a_line_pattern_finds_the_first_line_that_caret_finds(body):
    caret = re.compile("^" + body, re.MULTILINE)
    ours = line_pattern(body)
    for text in [*_texts(200), "> at start", "\n> after a newline", "On x:", ""]:
        expected = caret.search(text)
        assert line_start(ours, text) == (expected.start() if expected else None)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"^a", True),
        (r"\na", True),
        (r"(?:^|\n)x", True),
        (r"(?:^x){2,}", True),
        (r"(?!y)^a", True),
        (r"a", False),
        (r"(^a|b)", False),
        (r"(?:^x)*", False),
        (r"\s*^a", False),
    ],
)
def test_only_patterns_anchored_at_lines_are_recognised(pattern, expected):
    assert starts_at_line(re.compile(pattern, re.MULTILINE)) is expected


def test_empty_matches_fall_back_to_re_itself():
    pattern = re.compile(r"^(x*)", re.MULTILINE)
    assert LineFindall(pattern).findall("a\nxx\n\nb") == pattern.findall("a\nxx\n\nb")
