"""The ``send_mail`` actor: one queued mail through its SMTP relay.

Temporary failures (4xx, connection trouble) are retried by Dramatiq's ``Retries`` with
exponential backoff (30 s doubling up to 1 h, with jitter; 12 retries: 6 to 10 hours); the last
attempt records ``failed``. Permanent failures (5xx) are recorded at once and never retried.
The conditional claim in ``store.outbound.claim_for_sending`` makes a redelivered job a no-op.
"""

from __future__ import annotations

import dramatiq

from pipeline.outbound.send import SEND_ACTOR, deliver
from pipeline.queues import QUEUES
from workers import broker as _broker  # noqa: F401  (the broker exists before any actor)
from workers import runtime
from workers.retries import is_last_attempt

MAX_RETRIES = 12


class TemporarySendFailure(Exception):
    """The relay said "later" (4xx) or could not be reached: let Dramatiq retry."""


@dramatiq.actor(
    actor_name=SEND_ACTOR,
    queue_name=QUEUES[SEND_ACTOR],
    max_retries=MAX_RETRIES,
    min_backoff=30_000,
    max_backoff=3_600_000,
)
def send_mail(sent_mail_id: int) -> None:
    last_attempt = is_last_attempt(MAX_RETRIES, when_called_directly=False)
    result = deliver(runtime.pool(), sent_mail_id, runtime.settings(), last_attempt=last_attempt)
    if result is not None and result.status == "queued":
        raise TemporarySendFailure(result.response)
