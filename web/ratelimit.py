"""Rate limits (requests per minute and per hour) kept in Redis: per API key, and per
client address for the one unauthenticated endpoint that stores what it is sent
(``/mail-report``).

Counters live in Redis under ``<INTAKE_REDIS_NAMESPACE>:ratelimit``, so every web process
on every machine shares them. The ``limits`` library's sliding-window counter keeps two
counters per limit and weights the previous window, which avoids the double burst a fixed
window allows at its boundary while costing one Lua call per limit.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import redis
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.storage import RedisStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from config import Settings


@dataclass(frozen=True)
class Verdict:
    """The outcome of one request against a key's limits, ready for the response headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_in: int

    def headers(self) -> dict[str, str]:
        values = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_in),
        }
        if not self.allowed:
            values["Retry-After"] = str(max(1, self.reset_in))
        return values


class KeyRateLimiter:
    """Counts each API key's requests against its own ``requests_per_minute`` and ``_per_hour``,
    and any other caller (the public RPC's client addresses and organizations) by name."""

    def __init__(self, settings: Settings) -> None:
        pool = redis.ConnectionPool.from_url(settings.redis_url)
        storage = RedisStorage(
            "redis://", connection_pool=pool, key_prefix=f"{settings.redis_namespace}:ratelimit"
        )
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    def hit(self, key: dict[str, Any]) -> Verdict:
        """Count one request for ``key`` (an ``api_keys`` row); the tightest limit decides."""
        return self.hit_ident(str(key["id"]), key["requests_per_minute"], key["requests_per_hour"])

    def hit_address(self, endpoint: str, address: str, per_minute: int, per_hour: int) -> Verdict:
        """Count one unauthenticated request to ``endpoint`` from client ``address``."""
        return self.hit_ident(f"addr:{endpoint}:{address}", per_minute, per_hour)

    def hit_ident(self, ident: str, per_minute: int, per_hour: int) -> Verdict:
        """Count one request for ``ident`` against both limits; the tightest decides."""
        items = (
            RateLimitItemPerMinute(max(1, per_minute)),
            RateLimitItemPerHour(max(1, per_hour)),
        )
        return self.count(ident, items)

    def hit_per_minute(self, ident: str, per_minute: int) -> Verdict:
        """Count one request for a caller named ``ident`` (a prefix keeps kinds apart)."""
        return self.count(ident, (RateLimitItemPerMinute(max(1, per_minute)),))

    def count(self, ident: str, items: tuple[RateLimitItem, ...]) -> Verdict:
        """Count one request for ``ident`` against each of ``items``; the tightest decides."""
        for item in items:
            if not self.strategy.hit(item, ident):
                return self._verdict(item, ident, allowed=False)
        verdicts = [self._verdict(item, ident, allowed=True) for item in items]
        return min(verdicts, key=lambda v: v.remaining)

    def _verdict(self, item: RateLimitItem, ident: str, *, allowed: bool) -> Verdict:
        stats = self.strategy.get_window_stats(item, ident)
        reset_in = math.ceil(max(0.0, stats.reset_time - time.time()))
        if not allowed:
            reset_in = max(1, reset_in)
        return Verdict(allowed, item.amount, stats.remaining, reset_in)
