"""exclusions: excluded-sender patterns and ignored subjects."""

from pipeline.mail.exclusions import excluded_sender, ignored_subject, sender_matches


def test_an_exact_address_matches_case_insensitively():
    assert sender_matches("Alice@Example.org", "alice@example.org")
    assert not sender_matches("alice@example.org.evil", "alice@example.org")


def test_an_at_domain_pattern_matches_that_domain_only():
    assert sender_matches("bob@example.org", "@example.org")
    assert sender_matches("bob@example.org", "*@example.org")
    assert not sender_matches("bob@sub.example.org", "@example.org")
    assert sender_matches("bob@example.org", "Example.org")  # bare domain


def test_a_user_at_star_pattern_matches_that_user_on_any_domain():
    assert sender_matches("noreply@shop.example", "noreply@*")
    assert not sender_matches("alice@shop.example", "noreply@*")


def test_the_first_matching_pattern_is_reported():
    assert excluded_sender(["a@x.org"], ["b@x.org", "@x.org"]) == ("a@x.org", "@x.org")


def test_ignored_subjects_match_case_insensitive_substrings_and_skip_blanks():
    assert ignored_subject("Your WEEKLY digest", ["  ", "weekly"]) == "weekly"
    assert ignored_subject("Hello", ["weekly"]) is None
