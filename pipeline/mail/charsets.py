"""Decode bytes whose charset is missing, wrong or unknown, and keep text storable.

Mislabelled mail is ordinary: "utf-8" on cp1252 bytes, charsets Python does not know
("unknown-8bit", "x-user-defined"), 8-bit headers with no label at all. We try the declared
charset, then strict UTF-8, then cp1252, and finally latin-1 (which never fails), and say
which one was used. PostgreSQL refuses NUL characters in text and jsonb, and psycopg refuses
lone surrogates, so every string that leaves the parser goes through ``clean``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")
ESCAPED_BYTE = re.compile("[\udc80-\udcff]")  # how ``surrogateescape`` keeps a raw byte

# Labels seen in real mail that Python does not know, or knows as a narrower charset.
ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-6-i": "iso-8859-6",
    "x-mac-roman": "mac_roman",
    "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp",
    "ks_c_5601": "cp949",
    "windows-874": "cp874",
    "utf8": "utf-8",
}


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str
    declared: str | None

    @property
    def fell_back(self) -> bool:
        """True when the declared charset was unknown or wrong, or undeclared 8-bit text
        was not UTF-8 (undeclared ASCII and UTF-8 are what we expect)."""
        if self.declared is None:
            return self.charset != "utf-8"
        return normalize(self.declared) != self.charset


def normalize(name: str | None) -> str | None:
    """A Python codec name for a MIME charset label; ``None`` if unknown or not a text codec."""
    if not name:
        return None
    label = name.strip().strip('"').lower()
    label = ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except (LookupError, ValueError):  # ValueError: a NUL in the label
        return None
    # base64, zlib, rot13… are codecs too, but not text encodings.
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_bytes(data: bytes, declared: str | None) -> Decoded:
    """Decode ``data``: declared charset, then UTF-8, cp1252, latin-1; never raises."""
    first = normalize(declared)
    declared = clean(declared)[:60] if declared else declared  # it is recorded as evidence
    for charset in (first, *FALLBACK_CHARSETS):
        if charset is None:
            continue
        try:
            return Decoded(clean(data.decode(charset)), charset, declared)
        except (UnicodeError, LookupError, ValueError):
            continue
    return Decoded(clean(data.decode("latin-1")), "latin-1", declared)  # pragma: no cover


def repair(text: str) -> str:
    """Turn surrogate-escaped 8-bit bytes (how ``email`` keeps undecodable header bytes)
    back into characters, reading them as UTF-8, else cp1252/latin-1."""
    if text.isascii() or not ESCAPED_BYTE.search(text):  # every header value comes here
        return text
    raw = text.encode("utf-8", "surrogateescape")
    return decode_bytes(raw, None).text


def clean(text: str | None) -> str | None:
    """``text`` safe for PostgreSQL: no NUL characters, no lone surrogates."""
    if text is None:
        return None
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = repair(text).encode("utf-8", "replace").decode("utf-8")
    return text
