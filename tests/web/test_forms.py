"""``named_fields`` finds a form's signature fields without building the rest of the form."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from web.hooks.forms import form_fields, named_fields

NAMES = ("timestamp", "token", "signature")
MULTIPART = "multipart/form-data; boundary=XyZ"


def form(*parts: bytes, newline: bytes = b"\r\n") -> bytes:
    body = b"".join(b"--XyZ\r\n" + part + b"\r\n" for part in parts) + b"--XyZ--\r\n"
    return body.replace(b"\r\n", newline)


def field(name: str, value: bytes, extra: str = "") -> bytes:
    return f'Content-Disposition: form-data; name="{name}"{extra}\r\n\r\n'.encode() + value


def test_the_named_fields_are_those_the_full_parse_reads():
    body = form(
        field("recipient", b"a@example.com"),
        field("timestamp", b"1700000000"),
        b'Content-Disposition: form-data; name="attachment-1"; filename="x.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\x00\xff--Xy",
        field("token", b"abc"),
        b"Content-Disposition: form-data; name=signature\r\n\r\ndef",
    )
    found = named_fields(MULTIPART, body, NAMES)
    assert found == {"timestamp": b"1700000000", "token": b"abc", "signature": b"def"}
    fields, _ = form_fields(MULTIPART, body)
    assert {name: fields[name] for name in NAMES} == found


def test_a_file_with_a_wanted_name_is_not_a_field_and_the_first_value_wins():
    body = form(
        field("token", b"from-a-file", '; filename="token.txt"'),
        field("token", b"first"),
        field("token", b"second"),
    )
    assert named_fields(MULTIPART, body, NAMES) == {"token": b"first"}


def test_bare_line_feeds_are_read_too():
    body = form(field("timestamp", b"1"), field("token", b"t"), newline=b"\n")
    assert named_fields(MULTIPART, body, NAMES) == {"timestamp": b"1", "token": b"t"}


def test_urlencoded_fields_are_found_without_reading_the_rest():
    body = b"timestamp=1700000000&token=a%2Bb+c&body-plain=" + b"x" * 1000 + b"&signature=ff"
    found = named_fields("application/x-www-form-urlencoded", body, NAMES)
    assert found == {"timestamp": b"1700000000", "token": b"a+b c", "signature": b"ff"}


def test_a_wanted_field_longer_than_the_bound_is_413():
    with pytest.raises(InputError) as raised:
        named_fields(MULTIPART, form(field("signature", b"f" * 2000)), NAMES)
    assert (raised.value.status, raised.value.field) == (413, "signature")


def test_a_part_without_a_blank_line_does_not_borrow_the_next_parts_body():
    body = form(b'Content-Disposition: form-data; name="token"', field("signature", b"s"))
    assert named_fields(MULTIPART, body, NAMES) == {"signature": b"s"}


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "text/plain", "", "multipart/form-data; boundary*=utf-8''%E2%82%AC"],
)
def test_a_body_that_is_not_a_form_with_a_boundary_is_415(content_type):
    with pytest.raises(InputError) as raised:
        named_fields(content_type, b"timestamp=1", NAMES)
    assert raised.value.status == 415
