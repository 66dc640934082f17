"""A refilling token bucket shared by every process (atomic Lua on Redis `TIME`)."""

from __future__ import annotations

import time

from .client import get_redis, key

# Refill by elapsed Redis time, then take `n` if there are enough tokens.
# Returns {granted (0/1), seconds until `n` tokens will be there}. Clocks of the
# callers never matter: only the Redis server's TIME is used. The time is kept as
# TIME's own two integers: Lua's tostring() keeps 14 digits, which rounds an epoch
# timestamp to 0.1 ms, and under many calls a second the rounding added refill.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local state = redis.call('HMGET', KEYS[1], 'tokens', 'sec', 'usec')
local tokens = tonumber(state[1]) or capacity
if state[2] and state[3] then
  local elapsed = tonumber(t[1]) - tonumber(state[2])
  elapsed = elapsed + (tonumber(t[2]) - tonumber(state[3])) / 1000000
  tokens = math.min(capacity, tokens + math.max(0, elapsed) * rate)
end
local granted = 0
local wait = 0
if tokens >= n then
  tokens = tokens - n
  granted = 1
else
  wait = (n - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'sec', t[1], 'usec', t[2])
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
return {granted, tostring(wait)}
"""


class TokenBucket:
    """`capacity` tokens, refilled continuously at `refill_per_second`.

    A full bucket allows a burst of `capacity` calls, then the refill rate:
    `TokenBucket("grok", capacity=10, refill_per_second=2)` is 2 calls/s with
    bursts of 10, across all workers.
    """

    def __init__(self, name: str, capacity: float, refill_per_second: float) -> None:
        if capacity <= 0 or refill_per_second <= 0:
            raise ValueError("capacity and refill_per_second must be positive")
        self.name = name
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._key = key("bucket", name)
        self._take = get_redis().register_script(_TAKE)

    def _try(self, n: float) -> tuple[bool, float]:
        if n > self.capacity:
            raise ValueError(f"cannot take {n} tokens from a bucket of {self.capacity}")
        granted, wait = self._take(
            keys=[self._key], args=[self.capacity, self.refill_per_second, n]
        )
        return bool(granted), float(wait)

    def try_acquire(self, n: float = 1) -> bool:
        """Take `n` tokens now or return False; never waits."""
        return self._try(n)[0]

    def try_take(self, n: float = 1) -> float:
        """Take `n` tokens now and return 0.0, or take none and return the seconds
        until `n` tokens will be there (for callers that schedule their own wait)."""
        granted, wait = self._try(n)
        return 0.0 if granted else max(wait, 0.001)

    def acquire(self, n: float = 1, max_wait: float = 10.0) -> bool:
        """Take `n` tokens, sleeping for the refill if needed, at most `max_wait` seconds."""
        deadline = time.monotonic() + max_wait
        while True:
            granted, wait = self._try(n)
            if granted:
                return True
            remaining = deadline - time.monotonic()
            if wait > remaining:
                return False
            # Other callers may take the refilled tokens first: then we loop.
            time.sleep(wait)
