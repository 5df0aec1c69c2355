"""The built-in voicemail formats, the organization's own patterns, and caller numbers."""

from __future__ import annotations

import pytest

from pipeline import phones
from pipeline.mail.voicemail_patterns import VoicemailPattern, detect

ASTERISK_BODY = """Dear Support:

\tjust wanted to let you know you were just left a 0:42 long message (number 3)
in mailbox 2001 from "Jeanne Martin" <0606473979>, on Monday, January 15, 2024 at 10:30:00 AM
so you might want to check it when you get a chance.  Thanks!

\t\t\t\t--Asterisk
"""


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        (
            "Nouveau message en provenance de +33606473979 sur votre ligne 33257578980",
            "",
            ("french-telephony", "+33606473979", "33257578980"),
        ),
        (
            "Messagerie vocale",
            "Nouveau message vocal en provenance de 06 06 47 39 79 sur la ligne 02 57 57 89 80.",
            ("french-telephony", "06 06 47 39 79", "02 57 57 89 80"),
        ),
        ("[PBX]: New message 3 in mailbox 2001", ASTERISK_BODY, ("asterisk", "0606473979", "2001")),
        (
            "New voicemail from (650) 555-1234 at 3:14 PM",
            "",
            ("english-voicemail", "(650) 555-1234", None),
        ),
        (
            "New Voice Message from Jane Doe +44 20 7946 0958 to 2001",
            "",
            ("english-voicemail", "+44 20 7946 0958", "2001"),
        ),
    ],
)
def test_built_in_formats_give_the_caller_and_the_line(subject, body, expected):
    found = detect([], "pbx@example.com", subject, body)
    assert (found.pattern, found.caller, found.receiver) == expected


def test_an_asterisk_message_from_an_unknown_caller_is_still_a_voicemail():
    body = ASTERISK_BODY.replace('"Jeanne Martin" <0606473979>', "an unknown caller")
    found = detect([], "pbx@example.com", "[PBX]: New message", body)
    assert (found.pattern, found.caller, found.receiver) == ("asterisk", None, "2001")


def test_a_pattern_matches_only_when_all_its_regexes_match():
    pattern = VoicemailPattern(
        "ours", sender_regex=r"@pbx\.example$", body_regex=r"(?P<caller>\d{4,})"
    )
    assert detect([pattern], "box@pbx.example", "", "from 5551234").caller == "5551234"
    assert detect([pattern], "someone@else.example", "", "from 5551234") is None


def test_a_broken_organization_regex_is_skipped_not_raised():
    broken = VoicemailPattern("broken", subject_regex="(unclosed")
    found = detect(
        [broken],
        "",
        "Nouveau message en provenance de +33606473979 sur votre ligne 33257578980",
        "",
    )
    assert found.pattern == "french-telephony"


def test_ordinary_mail_matches_no_built_in_format():
    assert detect([], "alice@example.org", "Call me back on 0606473979", "Thanks") is None


@pytest.mark.parametrize(
    ("raw", "region", "e164", "formatted"),
    [
        ("+33606473979", "FR", "+33606473979", "06 06 47 39 79"),
        ("06 06 47 39 79", "FR", "+33606473979", "06 06 47 39 79"),
        ("+44 20 7946 0958", "FR", "+442079460958", "020 7946 0958"),
        ("(650) 555-1234", "us", "+16505551234", "(650) 555-1234"),
        ("2001", "FR", "2001", "2001"),
    ],
)
def test_callers_are_normalised_to_e164_and_formatted_nationally(raw, region, e164, formatted):
    assert phones.normalise(raw, region) == phones.PhoneNumber(e164, formatted)
