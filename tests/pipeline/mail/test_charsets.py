"""charsets: declared → UTF-8 → cp1252 → latin-1, and text PostgreSQL accepts."""

from pipeline.mail.charsets import clean, decode_bytes, normalize, repair


def test_a_correct_label_is_used_as_is():
    decoded = decode_bytes("été".encode("iso-8859-1"), "ISO-8859-1")
    assert (decoded.text, decoded.charset, decoded.fell_back) == ("été", "iso8859-1", False)


def test_a_wrong_utf8_label_falls_back_to_cp1252():
    decoded = decode_bytes(b"100 \x80", "utf-8")
    assert (decoded.text, decoded.charset, decoded.fell_back) == ("100 €", "cp1252", True)


def test_bytes_cp1252_cannot_decode_end_in_latin1():
    assert decode_bytes(b"\x81\x8d", None).charset == "latin-1"


def test_unknown_and_non_text_codec_names_are_ignored():
    assert normalize("x-unknown-8bit") is None
    assert normalize("base64") is None  # a codec, but bytes to bytes
    assert decode_bytes(b"plain", "base64").text == "plain"
    assert decode_bytes(b"caf\xe9", "undefined").text == "café"


def test_common_mislabels_map_to_their_superset():
    assert normalize("gb2312") == "gb18030"
    assert normalize('"UTF8"') == "utf-8"


def test_undeclared_utf8_is_not_reported_as_a_fallback():
    assert decode_bytes("ok é".encode(), None).fell_back is False


def test_clean_removes_nul_and_repairs_surrogate_escaped_bytes():
    assert clean("a\x00b") == "ab"
    assert clean("caf\udce9") == "café"
    assert repair("caf\udcc3\udca9") == "café"
    assert clean(None) is None
