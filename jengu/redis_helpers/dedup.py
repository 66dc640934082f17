"""Remember keys for a while: "have we seen this one?" with one atomic SET NX."""

from __future__ import annotations

from .client import get_redis, key


class Deduplicator:
    """A set of keys that forget themselves after `ttl` seconds.

    seen = Deduplicator("webhook:resend", ttl=86400)
    if seen.first_seen(delivery_id): handle(...)
    """

    def __init__(self, namespace: str, ttl: int) -> None:
        self.namespace = namespace
        self.ttl = ttl

    def _key(self, item: str) -> str:
        return key("dedup", self.namespace, item)

    def first_seen(self, item: str) -> bool:
        """Mark `item`; True only for the first caller within the TTL."""
        return bool(get_redis().set(self._key(item), 1, nx=True, ex=self.ttl))

    def seen(self, item: str) -> bool:
        return bool(get_redis().exists(self._key(item)))

    def forget(self, item: str) -> None:
        """Allow `item` again (e.g. its processing failed and should be retried)."""
        get_redis().delete(self._key(item))
