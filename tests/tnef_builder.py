"""Build small TNEF (winmail.dat) containers for tests, as Outlook lays them out.

Layout (MS-OXTNEF): a signature, a key, then attributes of
``level | id (uint16) | type (uint16) | length (uint32) | data | checksum (uint16)``.
"""

from __future__ import annotations

import struct

from compressed_rtf import compress

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2
ATT_TNEF_VERSION = (0x9006, 0x0008)
ATT_OEM_CODEPAGE = (0x9007, 0x0006)
ATT_MAPI_PROPS = (0x9003, 0x0006)
ATT_ATTACH_REND_DATA = (0x9002, 0x0006)
ATT_ATTACH_TITLE = (0x8010, 0x0001)
ATT_ATTACH_DATA = (0x800F, 0x0006)
ATT_BODY = (0x800C, 0x0002)
MAPI_BINARY = 0x0102
MAPI_RTF_COMPRESSED = 0x1009


def _attribute(level: int, attr: tuple[int, int], data: bytes) -> bytes:
    name, kind = attr
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, name, kind, len(data)) + data + struct.pack("<H", checksum)


def _rtf_props(rtf: bytes) -> bytes:
    value = compress(rtf)
    padded = value + b"\x00" * (-len(value) % 4)
    return struct.pack("<IHHII", 1, MAPI_BINARY, MAPI_RTF_COMPRESSED, 1, len(value)) + padded


def build(
    files: list[tuple[str, bytes]], rtf: bytes | None = None, body: bytes | None = None
) -> bytes:
    """A TNEF container holding ``files`` and, optionally, a compressed RTF or plain body."""
    out = struct.pack("<IH", SIGNATURE, 0x0101)
    out += _attribute(LVL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000))
    out += _attribute(LVL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", 1252, 0))
    if body is not None:
        out += _attribute(LVL_MESSAGE, ATT_BODY, body)
    if rtf is not None:
        out += _attribute(LVL_MESSAGE, ATT_MAPI_PROPS, _rtf_props(rtf))
    for name, data in files:
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, b"\x00" * 14)
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_TITLE, name.encode("cp1252") + b"\x00")
        out += _attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, data)
    return out
