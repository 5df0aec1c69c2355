"""Category rules evaluated against a mail: which fields, which operators, in which order.

A rule reads one field (``from``, ``to``, ``subject``, ``body`` or a named ``header``) and
compares it with one operator. Every comparison is case-insensitive, because that is
what people writing "contains invoice" mean:

- ``contains``: substring; ``equals``: the whole value (surrounding space ignored);
- ``regex``: a search with the ``regex`` package under a time bound (``bounded_regex``);
- ``domain``: an address's domain is the value or a subdomain of it (``@`` optional).

Rules run in order; a matching rule flagged ``stop_processing`` ends the evaluation.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pipeline.mail import bounded_regex
from pipeline.records import Message

ADDRESS_FIELDS = frozenset({"from", "to", "header"})


@dataclass(frozen=True)
class RuleHit:
    rule_id: int
    category_id: int
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    hits: list[RuleHit]
    errors: list[dict[str, Any]]


def field_values(msg: Message, field: str, header_name: str | None = None) -> list[str]:
    """The strings a rule on ``field`` looks at (several for address lists and headers)."""
    if field == "from":
        sender = msg.from_address or msg.envelope_from
        return [sender] if sender else []
    if field == "to":
        listed = [a["email"] for a in (*msg.to_addresses, *msg.cc_addresses)]
        return list(dict.fromkeys([*listed, *(a.lower() for a in msg.envelope_to)]))
    if field == "subject":
        return [msg.subject or ""]
    if field == "body":
        return [msg.body_text or msg.new_text or ""]
    if field == "header" and header_name:
        wanted = header_name.strip().lower()
        return [value for name, value in msg.headers if name.lower() == wanted]
    return []


def domains_of(values: Iterable[str]) -> list[str]:
    """The domains of the addresses found in ``values`` (``Name <a@b>`` forms included)."""
    found = []
    for _, address in email.utils.getaddresses(list(values)):
        if "@" in address:
            found.append(address.rpartition("@")[2].strip().rstrip(".").lower())
    return found


def is_match(operator: str, wanted: str, values: list[str], field: str) -> bool:
    """Whether any of ``values`` satisfies ``operator`` with ``wanted``.

    Raises ``ValueError`` for an invalid regex, ``bounded_regex.PatternTimeout`` for a
    runaway one.
    """
    if operator == "contains":
        needle = wanted.casefold()
        return any(needle in value.casefold() for value in values)
    if operator == "equals":
        target = wanted.strip().casefold()
        return any(value.strip().casefold() == target for value in values)
    if operator == "regex":
        compiled = bounded_regex.compile_pattern(wanted, ignore_case=True)
        return any(bounded_regex.search(compiled, value) for value in values)
    if operator == "domain" and field in ADDRESS_FIELDS:
        domain = wanted.strip().lstrip("@").rstrip(".").lower()
        return any(d == domain or d.endswith("." + domain) for d in domains_of(values))
    return False


def evaluate(rules: Iterable[Mapping[str, Any]], msg: Message) -> Evaluation:
    """Run ``rules`` (ordered) over ``msg``; a broken rule is reported and skipped."""
    hits: list[RuleHit] = []
    errors: list[dict[str, Any]] = []
    for rule in rules:
        values = field_values(msg, rule["field"], rule.get("header_name"))
        try:
            matched = is_match(rule["operator"], rule["value"], values, rule["field"])
        except (ValueError, bounded_regex.PatternTimeout) as exc:
            errors.append({"rule_id": rule["id"], "error": type(exc).__name__, "detail": str(exc)})
            continue
        if matched:
            hits.append(RuleHit(rule["id"], rule["category_id"], tuple(rule.get("labels") or ())))
            if rule.get("stop_processing"):
                break
    return Evaluation(hits, errors)
