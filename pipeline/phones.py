"""Phone numbers of voicemail callers: E.164 for storage and search, national for people.

phonenumberslite carries the same parsing and formatting metadata as phonenumbers at a
tenth of the size (it leaves out geocoding and carrier names, which Intake does not use).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

NOT_DIALABLE = re.compile(r"[^\d+]")


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    formatted: str


def clean(raw: str) -> str:
    """Digits of ``raw`` with its leading ``+`` if any: ``"+33 6 06-47"`` → ``"+3360647"``."""
    digits = NOT_DIALABLE.sub("", raw)
    return ("+" if digits.startswith("+") else "") + digits.replace("+", "")


def normalise(raw: str, region: str) -> PhoneNumber:
    """``raw`` as E.164 and in its country's national format (``06 06 47 39 79``).

    ``region`` (ISO 3166 alpha-2) reads numbers written without a country code. A number
    the library cannot read or that is not valid keeps its cleaned digits in both fields,
    so a voicemail from an odd caller id is still stored and searchable.
    """
    digits = clean(raw)
    try:
        number = phonenumbers.parse(digits, region.upper())
    except phonenumbers.NumberParseException:
        return PhoneNumber(digits, digits)
    if not phonenumbers.is_valid_number(number):
        return PhoneNumber(digits, digits)
    return PhoneNumber(
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
    )
