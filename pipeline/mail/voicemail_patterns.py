"""Recognise the mail a telephony system sends for a new voicemail.

A pattern has up to three regular expressions (sender, subject, body); it matches when
every one it has matches its field, and the named groups ``caller`` and ``receiver``
of those matches say who called which line. An organization's own patterns (table
``voicemail_patterns``) are tried first, in order, then the built-in ones below.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

log = logging.getLogger(__name__)

# Long bodies are cut before matching: notifications put the numbers near the top, and
# a bound keeps an organization's own regex from crawling through a huge mail.
MAX_BODY_CHARS = 20_000

NUMBER = r"\+?\(?\d[\d .()/-]{2,}\d"


@dataclass(frozen=True)
class VoicemailPattern:
    name: str
    sender_regex: str | None = None
    subject_regex: str | None = None
    body_regex: str | None = None
    region: str | None = None  # how national numbers of this format are read; None: the org's


@dataclass(frozen=True)
class Detection:
    pattern: str
    caller: str | None
    receiver: str | None
    region: str | None


# The French telephony notification of `002_…` (OVH, Orange and others), in the subject
# or the body: "Nouveau message en provenance de +33606473979 sur votre ligne 33257578980".
FRENCH = (
    rf"Nouveau message (?:vocal )?en provenance de\s+(?P<caller>{NUMBER})"
    rf"\s+sur (?:votre|la) ligne\s+(?P<receiver>{NUMBER})"
)

# Asterisk / FreePBX app_voicemail default body: "…just left a 0:42 long message
# (number 1)\nin mailbox 100 from "Jane" <0606473979>, on …" (or "an unknown caller").
ASTERISK = (
    r"long message \(number \d+\)\s+in mailbox (?P<receiver>\d+)(?:@\S+)? from "
    rf"(?:(?:\"[^\"]*\"\s*)?<?(?P<caller>{NUMBER})>?|an unknown caller)"
)

# The English subject of hosted PBXs and phone services (Google Voice, 3CX, RingCentral,
# Microsoft Teams): "New voicemail from (650) 555-1234 at 3:14 PM",
# "New Voice Message from Jane Doe +44 20 7946 0958 to 2001".
ENGLISH = (
    rf"(?i)\bnew voice ?(?:mail|message)\b.*?\bfrom\b\D*?(?P<caller>{NUMBER})"
    rf"(?:.*?\b(?:to|for)\b\D*?(?P<receiver>{NUMBER}))?"
)

BUILTIN: tuple[VoicemailPattern, ...] = (
    VoicemailPattern("french-telephony", subject_regex=FRENCH, region="FR"),
    VoicemailPattern("french-telephony", body_regex=FRENCH, region="FR"),
    VoicemailPattern("asterisk", body_regex=ASTERISK),
    VoicemailPattern("english-voicemail", subject_regex=ENGLISH),
)


def detect(
    patterns: list[VoicemailPattern], sender: str | None, subject: str | None, body: str | None
) -> Detection | None:
    """The first of ``patterns`` (then the built-ins) that the mail matches, or ``None``."""
    fields = (sender or "", subject or "", (body or "")[:MAX_BODY_CHARS])
    for pattern in (*patterns, *BUILTIN):
        groups = _match(pattern, fields)
        if groups is not None:
            return Detection(
                pattern.name, groups.get("caller"), groups.get("receiver"), pattern.region
            )
    return None


def _match(pattern: VoicemailPattern, fields: tuple[str, str, str]) -> dict[str, str] | None:
    """Named groups of every regex of ``pattern`` if all match; ``None`` otherwise."""
    regexes = (pattern.sender_regex, pattern.subject_regex, pattern.body_regex)
    if not any(regexes):
        return None
    groups: dict[str, str] = {}
    for source, text in zip(regexes, fields, strict=True):
        if not source:
            continue
        compiled = _compile(source)
        found = compiled.search(text) if compiled else None
        if found is None:
            return None
        groups.update({k: v.strip() for k, v in found.groupdict().items() if v})
    return groups


@lru_cache(maxsize=512)
def _compile(source: str) -> re.Pattern[str] | None:
    """``source`` compiled; ``None`` (logged) when an organization saved a broken regex."""
    try:
        return re.compile(source, re.MULTILINE)
    except re.error as exc:
        log.warning("ignoring invalid voicemail pattern %r: %s", source, exc)
        return None
