"""boundaries: a multipart whose boundary is lost is split on the one its body uses."""

from pipeline.mail.boundaries import guess_boundary, repair
from pipeline.mail.mime import parse_bytes

BODY = b"\r\n--used\r\nContent-Type: text/plain\r\n\r\none\r\n--used\r\n\r\ntwo\r\n--used--\r\n"


def test_the_delimiter_seen_twice_is_the_boundary():
    assert guess_boundary(BODY) == "used"
    assert guess_boundary(b"\r\n-- \r\nsignature only\r\n") is None


def test_a_message_without_boundary_is_reparsed_with_the_guessed_one():
    raw = b"From: a@x\r\nContent-Type: multipart/mixed\r\n" + BODY
    fixed = repair(raw, parse_bytes(raw))
    assert fixed is not None
    assert [p.get_content() for p in fixed.iter_parts()] == ["one", "two"]


def test_a_well_formed_message_is_left_alone():
    raw = b'From: a@x\r\nContent-Type: multipart/mixed; boundary="used"\r\n' + BODY
    assert repair(raw, parse_bytes(raw)) is None
