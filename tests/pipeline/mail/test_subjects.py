"""Subject prefixes and ticket tokens."""

import pytest

from pipeline.mail.subjects import strip_subject_prefixes, subject_key, ticket_numbers


@pytest.mark.parametrize(
    "prefix", ["Re:", "RE:", "Fwd:", "FW:", "AW:", "WG:", "SV:", "VS:", "TR:", "RV:", "[Acme]"]
)
def test_each_reply_and_forward_prefix_is_stripped(prefix):
    assert strip_subject_prefixes(f"{prefix} Printer on fire") == "Printer on fire"


def test_stacked_prefixes_counters_and_tags_are_all_stripped():
    subject = "RE[2]: AW: [EXTERNAL] Fwd:  Re : Printer on fire"
    assert strip_subject_prefixes(subject) == "Printer on fire"


def test_words_that_merely_start_like_a_prefix_are_kept():
    assert strip_subject_prefixes("Review: the new printer") == "Review: the new printer"
    assert strip_subject_prefixes("Trouble with the printer") == "Trouble with the printer"


def test_subject_key_ignores_case_spacing_and_ticket_tokens():
    assert subject_key("Re: Printer  ON fire [#12]") == subject_key("printer on fire")


def test_subject_key_of_a_prefix_only_subject_is_empty():
    assert subject_key("Re: ") == ""
    assert subject_key(None) == ""


def test_ticket_numbers_are_found_in_order_without_repeats():
    assert ticket_numbers("Re: [#12] and [#7] and [#12] but not #99 or [# 5]") == [12, 7]
