"""fingerprints: dedupe keys by Message-ID or trace-stripped raw bytes."""

from pipeline.mail.fingerprints import dedupe_key, strip_trace_fields

RAW = b"From: a@x\r\nSubject: s\r\n\r\nbody\r\n"


def test_trace_fields_at_the_top_are_stripped_with_their_continuations():
    traced = b"Received: from a\r\n\tby b; now\r\nReturn-Path: <a@x>\r\n" + RAW
    assert strip_trace_fields(traced) == RAW


def test_a_received_line_below_the_first_field_is_kept():
    assert strip_trace_fields(RAW + b"Received: x\r\n").endswith(b"Received: x\r\n")


def test_the_message_id_is_the_key_and_very_long_ones_are_hashed():
    assert dedupe_key("<a@x>", None) == ("mid:<a@x>", "message_id")
    key, basis = dedupe_key("<" + "a" * 300 + "@x>", None)
    assert key.startswith("mid-sha256:") and basis == "message_id"


def test_without_a_message_id_the_stripped_raw_bytes_are_hashed():
    assert dedupe_key(None, b"Received: x\r\n" + RAW) == dedupe_key(None, RAW)
    assert dedupe_key(None, RAW)[1] == "raw_sha256"
