"""Per-key daily counters with an atomic "reserve if below cap" (warm-up limits)."""

from __future__ import annotations

from datetime import date

from .client import get_redis, key

# Increment only while the result stays within the cap; return the new count or -1.
# With a second key, return -2 (and change nothing) while that key does not exist.
_RESERVE = """
if #KEYS > 1 and redis.call('EXISTS', KEYS[2]) == 0 then return -2 end
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if current + n > tonumber(ARGV[2]) then return -1 end
local value = redis.call('INCRBY', KEYS[1], n)
redis.call('EXPIRE', KEYS[1], ARGV[3])
return value
"""

# Decrement without going below zero.
_RELEASE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local value = math.max(current - tonumber(ARGV[1]), 0)
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('SET', KEYS[1], value, 'KEEPTTL') end
return value
"""


class CounterUnseeded(LookupError):
    """`reserve(..., seeded_by=key)` found `key` missing: seed the day, then reserve again."""


class DailyCounter:
    """Counts per (key, day) in one namespace, e.g. sends per inbox per day.

    `reserve` checks and increments in one Lua call, so two workers can never
    both take the last slot. Counters expire `ttl_days` after their last write.
    """

    def __init__(self, namespace: str, *, ttl_days: int = 8) -> None:
        self.namespace = namespace
        self.ttl_seconds = ttl_days * 86400
        client = get_redis()
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)

    def _key(self, item: str | int, day: date) -> str:
        return key("count", self.namespace, item, day.isoformat())

    def reserve(
        self, item: str | int, cap: int, day: date, n: int = 1, *, seeded_by: str | None = None
    ) -> bool:
        """Add `n` if the day's count stays <= `cap`; False (and no change) otherwise.

        With `seeded_by` (a key the caller writes once it has seeded the day's
        counters from its records), raises CounterUnseeded while that key is missing.
        The check is part of the same call: a reserve costs one round trip.
        """
        keys = [self._key(item, day), *([seeded_by] if seeded_by else [])]
        result = int(self._reserve(keys=keys, args=[n, cap, self.ttl_seconds]))
        if result == -2:
            raise CounterUnseeded(seeded_by)
        return result >= 0

    def release(self, item: str | int, day: date, n: int = 1) -> int:
        """Give back `n` reserved slots (the send did not happen); returns the new count."""
        return int(self._release(keys=[self._key(item, day)], args=[n]))

    def count(self, item: str | int, day: date) -> int:
        return int(get_redis().get(self._key(item, day)) or 0)
