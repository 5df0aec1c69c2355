"""headers: RFC 2047 words decoded tolerantly, addresses, dates."""

from pipeline.mail.headers import addresses, decode_words, message_ids, parsed_date
from pipeline.mail.mime import parse_bytes


def test_adjacent_encoded_words_are_joined_before_decoding():
    assert decode_words("=?UTF-8?Q?caf=C3?= =?UTF-8?Q?=A9?= ok") == "café ok"


def test_malformed_encoded_words_stay_literal():
    assert decode_words("=?utf-8?q?broken") == "=?utf-8?q?broken"


def test_an_unknown_charset_in_an_encoded_word_falls_back():
    assert decode_words("=?x-unknown?Q?caf=E9?=") == "café"


def test_unpadded_base64_words_decode():
    assert decode_words("=?utf-8?b?w6k?=") == "é"


def test_space_between_a_word_and_text_is_kept():
    assert decode_words("a =?utf-8?q?x?= b") == "a x b"


def test_addresses_are_lowercased_with_decoded_names_and_groups_skipped():
    msg = parse_bytes(
        b"To: =?utf-8?q?Ren=C3=A9e?= <Renee@Example.ORG>, undisclosed-recipients:;, bad\r\n\r\n"
    )
    assert addresses(msg, "To") == [{"email": "renee@example.org", "name": "Renée"}]


def test_message_ids_are_found_in_messy_references():
    assert message_ids("<a@b>,<c@d>\t junk <e@f>") == ["<a@b>", "<c@d>", "<e@f>"]


def test_absurd_dates_are_dropped_and_naive_ones_get_utc():
    assert parsed_date(parse_bytes(b"Date: Mon, 1 Jan 1850 00:00:00 +0000\r\n\r\n")) is None
    when = parsed_date(parse_bytes(b"Date: Mon, 15 Jan 2024 10:30:00 -0000\r\n\r\n"))
    assert when is not None and when.tzinfo is not None
