"""Checks for values a client puts into the headers of mail Intake sends.

A CR or LF in an address, subject or name would let a client add headers or recipients
of its own (header injection), and so would any other character ``str.splitlines()``
treats as a line end; such values are refused outright, never cleaned.
"""

from __future__ import annotations

import re

# Every character ``str.splitlines()`` breaks on (the email package folds and splits
# headers with it), and NUL.
LINE_BREAKS = re.compile(r"[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\x00]")
# A pragmatic addr-spec (RFC 5321 §4.1.2 without quoted local parts or address literals):
# what relays accept in RCPT TO and what a helpdesk needs.
ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$"
)
MAX_ADDRESS = 254


def check_header_text(value: str) -> str:
    """``value`` unchanged; raises ``ValueError`` when it contains a line break."""
    if LINE_BREAKS.search(value):
        raise ValueError("must not contain line breaks")
    return value


def check_address(value: str) -> str:
    """``value`` stripped, when it is one plain e-mail address; raises ``ValueError``."""
    check_header_text(value)
    address = value.strip()
    local, _, domain = address.rpartition("@")
    if (
        len(address) > MAX_ADDRESS
        or not ADDRESS.match(address)
        or ".." in address
        or local.startswith(".")
        or local.endswith(".")
        or "." not in domain
    ):
        raise ValueError(f"{address!r} is not a valid e-mail address")
    return address
