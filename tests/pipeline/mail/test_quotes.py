"""quotes: the new text of a reply in the clients and languages helpdesks meet."""

import pytest

from pipeline.mail.quotes import extract_new_text

REPLIES = {
    "italian": "Grazie.\n\nIl giorno lun 15 gen 2024 alle ore 10:30 S <s@x.it> ha scritto:\n> Ha riavviato?\n",
    "dutch": "Bedankt.\n\nOp ma 15 jan. 2024 om 10:30 schreef S <s@x.nl>:\n> Opnieuw?\n",
    "swedish": "Tack.\n\nDen mån 15 jan. 2024 kl 10:30 skrev S <s@x.se>:\n> Startat om?\n",
    "outlook_german": "Danke.\n\nVon: S <s@x.de>\nGesendet: Montag, 15. Januar 2024 10:30\nAn: H <h@x.de>\nBetreff: AW: VPN\n\nalt\n",
    "outlook_french": "Merci.\n\nDe : S <s@x.fr>\nEnvoyé : lundi 15 janvier 2024 10:30\nÀ : J <j@x.fr>\nObjet : RE: VPN\n\nvieux\n",
    "original_message_german": "Danke.\n\n-----Ursprüngliche Nachricht-----\nVon: S\nBetreff: y\n\nalt\n",
    "gmail_wrapped_header": "Danke.\n\nOn Mon, Jan 15, 2024 at 10:30 AM Support Team <\nsupport@x.com> wrote:\n\n> q\n",
}


@pytest.mark.parametrize("name", REPLIES)
def test_the_quoted_history_is_stripped(name):
    new, method = extract_new_text(REPLIES[name])
    assert (new.split("\n")[0], method) == (REPLIES[name].split("\n")[0], "reply")
    assert "\n" not in new


def test_a_mail_that_is_not_a_reply_keeps_its_layout():
    text = "Steps I tried:\n- restart\n    indented\n\nStill broken.\n"
    assert extract_new_text(text) == (text.strip(), "whole")


def test_a_forward_keeps_the_forwarded_message():
    text = "See below.\n\n---------- Forwarded message ---------\nFrom: B <b@x>\n\nfwd text\n"
    assert extract_new_text(text) == (text.strip(), "forward")


def test_trailing_quoted_lines_are_dropped():
    assert extract_new_text("My answer.\n> old\n> older\n") == ("My answer.", "reply")


def test_no_text_gives_none():
    assert extract_new_text(None) == (None, "none")


def test_a_huge_body_is_only_scanned_at_the_top():
    text = "Answer.\n\nOn Mon, Jan 15, 2024, S <s@x> wrote:\n" + "> q\n" * 40_000
    assert extract_new_text(text) == ("Answer.", "reply")
