"""A provider's "come back later" (HTTP 429 `Retry-After`), shared by every process.

A rate limit is the provider answering "busy", not failing: it must neither open
the circuit breaker (that would make composers fall back to the template) nor be
ignored (calling again before `Retry-After` only earns more 429s). The hold is
one Redis key per provider that lives exactly as long as the provider asked.
"""

from __future__ import annotations

from jengu.redis_helpers import get_redis
from jengu.redis_helpers.client import key


class ProviderHold:
    def __init__(self, name: str) -> None:
        self._key = key("hold", name)

    def extend(self, seconds: float) -> None:
        """Hold for at least `seconds` from now; never shortens a longer hold."""
        ms = max(int(seconds * 1000), 1)
        pipe = get_redis().pipeline(transaction=True)
        pipe.set(self._key, "1", px=ms, nx=True)
        pipe.pexpire(self._key, ms, gt=True)
        pipe.execute()

    def remaining(self) -> float:
        """Seconds until the provider may be called again (0.0 when it may now)."""
        ms = get_redis().pttl(self._key)
        return ms / 1000 if ms > 0 else 0.0
