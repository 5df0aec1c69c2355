"""categorize: ordered ``category_rules`` put the mail in categories and pick labels.

Categories are stored in ``message_categories``; labels are recorded in
``analysis["categorize"]["labels"]`` and applied to the ticket by the ticket stage.
Raises ``email.categorized`` (once per message) when at least one category was assigned.
"""

from __future__ import annotations

from typing import Any

from pipeline import api_orders, event_payloads, events
from pipeline.context import StageContext
from pipeline.db import Connection
from pipeline.mail.rule_match import RuleHit, evaluate
from pipeline.outcomes import Continue
from pipeline.records import Message
from pipeline.store import categories

EVENT = "email.categorized"


def run(conn: Connection, msg: Message, ctx: StageContext) -> Continue:
    if (bypass := api_orders.bypassed(msg)) is not None:
        return bypass
    result = evaluate(ctx.org(conn, msg).category_rules, msg)
    assigned = first_rule_per_category(result.hits)
    found = []
    if assigned:
        categories.assign_by_rules(conn, msg.org_id, msg.id, assigned.items())
        found = categories.summaries(conn, msg.org_id, list(assigned))
    labels = labels_of(result.hits)
    evidence = {
        "categories": [{**c, "rule_id": assigned[c["id"]]} for c in found],
        "labels": labels,
        "rules_matched": [hit.rule_id for hit in result.hits],
        "errors": result.errors,
    }
    jobs = raise_event(conn, msg, found, labels) if found else ()
    return Continue(evidence, jobs)


def first_rule_per_category(hits: list[RuleHit]) -> dict[int, int]:
    """``{category_id: rule_id}`` of the first rule that put the mail in each category."""
    assigned: dict[int, int] = {}
    for hit in hits:
        assigned.setdefault(hit.category_id, hit.rule_id)
    return assigned


def labels_of(hits: list[RuleHit]) -> list[str]:
    """The labels of every matched rule, in rule order, each once."""
    return list(dict.fromkeys(label for hit in hits for label in hit.labels if label))


def raise_event(conn: Connection, msg: Message, found: list[dict[str, Any]], labels: list[str]):
    data = event_payloads.email_categorized(msg, found, labels)
    return events.emit(conn, msg.org_id, EVENT, f"{EVENT}:{msg.id}", data)
