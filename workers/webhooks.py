"""The ``deliver_webhook`` actor: one delivery attempt of one event to one subscription.

Retries are not Dramatiq's: a failed attempt schedules the next one in the database
(``webhook_deliveries.next_attempt_at``, exponential backoff over about a day) and the
scheduler's ``webhook_retries`` task hands due attempts back to this actor. Dramatiq only
retries the database errors that happen before an attempt is claimed.
"""

from __future__ import annotations

import dramatiq

from pipeline.events import DELIVER_ACTOR
from pipeline.outbound.webhooks import deliver
from pipeline.queues import QUEUES
from workers import broker as _broker  # noqa: F401  (the broker exists before any actor)
from workers import runtime


@dramatiq.actor(
    actor_name=DELIVER_ACTOR, queue_name=QUEUES[DELIVER_ACTOR], max_retries=3, min_backoff=5_000
)
def deliver_webhook(delivery_id: int) -> None:
    deliver(runtime.pool(), delivery_id, runtime.settings())
