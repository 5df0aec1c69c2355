"""Is this mail written by a machine answering mail? RFC 3834 and the headers and
subjects that real auto-responders, list servers and bounce daemons use.

Each check returns a ``Signal`` naming the rule and the evidence it saw, or ``None``;
``signals`` runs them all so the filter can record every hit, not only the first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.mail.out_of_office import OOO_SUBJECT

BULK_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
DAEMON_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
NEGATIVE_VALUES = frozenset({"", "no", "false", "0", "none"})


@dataclass(frozen=True)
class Signal:
    rule: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MailFacts:
    """What the checks look at, taken from a parsed message."""

    headers: dict[str, list[str]]  # lower-cased name -> values
    subject: str
    from_address: str | None
    envelope_from: str | None  # "<>" (or "") is the null reverse-path; None means unknown
    message_id: str | None

    def first(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


def header_map(pairs: list[list[str]]) -> dict[str, list[str]]:
    """``[[name, value], …]`` as ``{lower name: [values]}``."""
    result: dict[str, list[str]] = {}
    for name, value in pairs:
        result.setdefault(name.lower(), []).append(value)
    return result


def _token(value: str | None) -> str:
    return (value or "").split(";")[0].strip().lower()


def auto_submitted(facts: MailFacts) -> Signal | None:
    """RFC 3834 §5: any ``Auto-Submitted`` value other than ``no``."""
    value = facts.first("Auto-Submitted")
    if value is not None and _token(value) not in {"no", ""}:
        return Signal("auto_submitted", {"header": "Auto-Submitted", "value": value[:200]})
    return None


def autoreply_header(facts: MailFacts) -> Signal | None:
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        value = facts.first(name)
        if value is not None and _token(value) not in NEGATIVE_VALUES:
            return Signal("autoreply_header", {"header": name, "value": value[:200]})
    return None


def bulk_precedence(facts: MailFacts) -> Signal | None:
    value = facts.first("Precedence")
    if _token(value) in BULK_PRECEDENCE:
        return Signal("precedence", {"header": "Precedence", "value": value})
    return None


def mailing_list(facts: MailFacts) -> Signal | None:
    for name in ("List-Id", "List-Unsubscribe"):
        value = facts.first(name)
        if value is not None:
            return Signal("mailing_list", {"header": name, "value": value[:200]})
    return None


def loop_header(facts: MailFacts) -> Signal | None:
    value = facts.first("X-Loop")
    return (
        Signal("x_loop", {"header": "X-Loop", "value": value[:200]}) if value is not None else None
    )


def null_sender(facts: MailFacts) -> Signal | None:
    """The null reverse-path ``<>`` (RFC 5321 §4.5.5) is what bounces and receipts use."""
    return_path = facts.first("Return-Path")
    null_envelope = facts.envelope_from is not None and facts.envelope_from.strip() in {"", "<>"}
    if null_envelope or (return_path is not None and return_path.strip() == "<>"):
        return Signal(
            "null_sender", {"envelope_from": facts.envelope_from, "return_path": return_path}
        )
    return None


def daemon_sender(facts: MailFacts) -> Signal | None:
    for address in (facts.from_address, facts.envelope_from):
        if address and address.split("@")[0].lower() in DAEMON_LOCAL_PARTS:
            return Signal("daemon_sender", {"address": address})
    return None


def out_of_office_subject(facts: MailFacts) -> Signal | None:
    subject = unicodedata.normalize("NFC", facts.subject or "")
    match = OOO_SUBJECT.search(subject)
    return (
        Signal("out_of_office_subject", {"subject": subject, "matched": match.group(0)})
        if match
        else None
    )


CHECKS: tuple[Callable[[MailFacts], Signal | None], ...] = (
    auto_submitted,
    autoreply_header,
    bulk_precedence,
    mailing_list,
    loop_header,
    null_sender,
    daemon_sender,
    out_of_office_subject,
)


def own_message_id(facts: MailFacts, domain: str) -> Signal | None:
    """Our own outbound mail coming back (a loop): its Message-ID is in our domain."""
    mid = (facts.message_id or "").lower()
    if domain and mid.endswith(f"@{domain.lower()}>"):
        return Signal("own_message_id", {"message_id": facts.message_id, "domain": domain})
    return None


def signals(facts: MailFacts, own_domain: str) -> list[Signal]:
    """Every automatic-mail signal in ``facts``, loop first."""
    found = [own_message_id(facts, own_domain), *(check(facts) for check in CHECKS)]
    return [signal for signal in found if signal is not None]
