"""reading: ``policy.default`` that parses each header once reads mail exactly like it."""

import email
from email import policy
from pathlib import Path

import pytest

from pipeline.mail.reading import reading_policy

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLES = sorted(DATA.glob("*.eml")) + sorted((DATA / "stdlib").glob("msg_*.txt"))


def _read(raw: bytes, chosen) -> email.message.Message:
    return email.message_from_bytes(raw, policy=chosen)


def _view(msg) -> list:
    """What the rest of the parser can see of a message tree."""
    seen = []
    for part in msg.walk():
        fields = [
            (k, str(v), type(v).__name__, [type(d) for d in v.defects]) for k, v in part.items()
        ]
        seen.append(
            (
                part.get_content_type(),
                part.get_content_disposition(),
                part.get_filename(),
                part.get_param("charset"),
                fields,
                [type(d) for d in part.defects],
                part.get_payload(decode=True) if not part.is_multipart() else None,
            )
        )
    return [seen, msg.as_bytes()]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_mail_reads_the_same_as_with_policy_default(path):
    raw = path.read_bytes()
    try:
        expected = _view(_read(raw, policy.default))
    except ValueError as exc:  # a NUL in an RFC 2231 charset: both must fail alike
        with pytest.raises(type(exc)):
            _read(raw, reading_policy())
        return
    assert _view(_read(raw, reading_policy())) == expected


def test_a_header_is_parsed_once_per_message():
    msg = _read(b"Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n", reading_policy())
    assert msg["Content-Type"] is msg["content-type"]
    assert msg.get_content_charset() == "utf-8"


def test_messages_do_not_share_what_was_parsed():
    first, second = reading_policy(), reading_policy()
    assert first.header_factory is not second.header_factory
    assert first.header_factory("Subject", "x") is not second.header_factory("Subject", "x")


def test_the_policy_settings_are_policy_default():
    ours = reading_policy()
    for name in ("max_line_length", "linesep", "utf8", "refold_source", "raise_on_defect"):
        assert getattr(ours, name) == getattr(policy.default, name)
    assert ours.message_factory is policy.default.message_factory
    assert ours.content_manager is policy.default.content_manager
