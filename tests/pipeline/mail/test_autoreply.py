"""autoreply: machine mail recognized by headers, senders and subjects."""

import pytest

from pipeline.mail.autoreply import MailFacts, header_map, signals


def facts(
    headers=(),
    subject="Question",
    sender="alice@example.org",
    envelope="alice@example.org",
    message_id="<q@example.org>",
):
    return MailFacts(header_map([list(h) for h in headers]), subject, sender, envelope, message_id)


def rules(f: MailFacts) -> list[str]:
    return [s.rule for s in signals(f, "intake.local")]


def test_a_human_mail_has_no_signal():
    assert rules(facts()) == []


@pytest.mark.parametrize(
    ("header", "value", "rule"),
    [
        ("Auto-Submitted", "auto-replied", "auto_submitted"),
        ("Auto-Submitted", "auto-generated; type=vacation", "auto_submitted"),
        ("X-Autoreply", "yes", "autoreply_header"),
        ("X-Autorespond", "Vacation", "autoreply_header"),
        ("X-Auto-Response-Suppress", "All", "autoreply_header"),
        ("Precedence", "bulk", "precedence"),
        ("Precedence", "junk", "precedence"),
        ("Precedence", "list", "precedence"),
        ("Precedence", "auto_reply", "precedence"),
        ("List-Id", "<dev.lists.example.org>", "mailing_list"),
        ("List-Unsubscribe", "<mailto:leave@example.org>", "mailing_list"),
        ("X-Loop", "helpdesk@example.org", "x_loop"),
        ("Return-Path", "<>", "null_sender"),
    ],
)
def test_each_automatic_mail_header_is_a_signal(header, value, rule):
    assert rules(facts([(header, value)])) == [rule]


@pytest.mark.parametrize(
    ("header", "value"),
    [("Auto-Submitted", "no"), ("X-Autoreply", "no"), ("Precedence", "first-class")],
)
def test_negative_header_values_are_no_signal(header, value):
    assert rules(facts([(header, value)])) == []


def test_the_null_reverse_path_is_a_signal_but_an_unknown_one_is_not():
    assert rules(facts(envelope="<>")) == ["null_sender"]
    assert rules(facts(envelope=None)) == []


def test_mailer_daemon_and_postmaster_senders_are_signals():
    assert rules(facts(sender="MAILER-DAEMON@mx.example.net")) == ["daemon_sender"]
    assert rules(facts(sender=None, envelope="postmaster@example.net")) == ["daemon_sender"]


def test_our_own_message_id_domain_is_a_loop():
    assert rules(facts(message_id="<abc@intake.local>")) == ["own_message_id"]
    assert rules(facts(message_id="<abc@intake.local.example.org>")) == []


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Question",  # English
        "Automatic reply: Question",
        "Réponse automatique : Question",  # French
        "Absence du bureau : Question",
        "Abwesenheitsnotiz: Frage",  # German
        "Automatische Antwort: Frage",
        "Respuesta automática: Pregunta",  # Spanish
        "Fuera de la oficina",
        "Risposta automatica: Domanda",  # Italian
        "Fuori ufficio",
        "Automatisch antwoord: Vraag",  # Dutch
        "Afwezig tot maandag",
        "Automatiskt svar: Fråga",  # Swedish
        "Frånvaro",
        "AW: Abwesend bis Montag",
    ],
)
def test_out_of_office_subjects_in_seven_languages_are_signals(subject):
    assert rules(facts(subject=subject)) == ["out_of_office_subject"]


@pytest.mark.parametrize(
    "subject", ["Re: absence of invoice", "Urlaubsantrag", "Assenteismo report", "Auto parts"]
)
def test_ordinary_subjects_near_those_words_are_not_signals(subject):
    assert rules(facts(subject=subject)) == []
