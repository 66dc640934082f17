"""Per-key daily counters with an atomic "reserve if below cap" (warm-up limits)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from .client import get_redis, key

# Increment only while the result stays within the cap; return the new count or -1.
# With a second key (the seed's marker), return -2 and change nothing while it is missing.
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


# What the reserve script answers while the day's counters are not seeded yet.
_UNSEEDED = -2
# A Redis that loses the counters again right after every seed is not a state to
# keep sending in.
SEED_ATTEMPTS = 3


class CounterUnseeded(RuntimeError):
    """The day's counters would not stay seeded (Redis keeps losing them)."""


@dataclass(frozen=True)
class CounterSeed:
    """Where a day's counters start when Redis has none: a new day, or Redis lost its data.

    `counts()` reads the caller's own records (item -> count so far today). With a
    `marker`, one seed starts every item's counter and then writes the marker, so
    a counter missing afterwards means zero; without one, each item's own counter
    says whether it was seeded.
    """

    counts: Callable[[], Mapping[str | int, int]]
    marker: str | None = None


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
        self, item: str | int, cap: int, day: date, n: int = 1, *, seed: CounterSeed | None = None
    ) -> bool:
        """Add `n` if the day's count stays <= `cap`; False (and no change) otherwise.

        With `seed`, an unseeded day is seeded first. Whether it is seeded is
        checked in the same Lua call as the reserve, so a reserve costs one round
        trip and a Redis flush between a seed and its reserve is caught.
        """
        counter_key = self._key(item, day)
        keys = [counter_key, seed.marker or counter_key] if seed else [counter_key]
        for _ in range(SEED_ATTEMPTS):
            result = int(self._reserve(keys=keys, args=[n, cap, self.ttl_seconds]))
            if result != _UNSEEDED:
                return result >= 0
            self._start(day, seed)
        raise CounterUnseeded(f"{self.namespace} counters for {day} do not stay seeded")

    def _start(self, day: date, seed: CounterSeed) -> None:
        # `SET NX`: a counter someone started (and perhaps incremented) meanwhile is kept.
        pipe = get_redis().pipeline(transaction=False)
        for item, count in seed.counts().items():
            pipe.set(self._key(item, day), count, nx=True, ex=self.ttl_seconds)
        if seed.marker:
            pipe.set(seed.marker, 1, ex=self.ttl_seconds)
        pipe.execute()

    def release(self, item: str | int, day: date, n: int = 1) -> int:
        """Give back `n` reserved slots (the send did not happen); returns the new count."""
        return int(self._release(keys=[self._key(item, day)], args=[n]))

    def count(self, item: str | int, day: date) -> int:
        return int(get_redis().get(self._key(item, day)) or 0)
