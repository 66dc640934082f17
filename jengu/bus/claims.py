"""Redis claims on event ids: one worker processes an event, and only once.

`claim()` is a `SET NX` with a short TTL while an actor runs; success turns
the key into a long-lived "done" marker; failure deletes it so the retry can
claim again. A keeper thread in each worker process extends the claims it
holds, so a claim outlives its TTL only while its worker is alive: when a
worker is SIGKILLed its claims lapse within one TTL and the broker's redelivery
can run the event.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Literal

from django.conf import settings

from jengu.redis_helpers.client import get_redis, key

logger = logging.getLogger(__name__)

ClaimOutcome = Literal["claimed", "busy", "done"]
DONE = "done"

# Delete / extend only what we still own (the token), never another worker's claim.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
for i, k in ipairs(KEYS) do
  if redis.call('GET', k) == ARGV[i + 1] then redis.call('PEXPIRE', k, ARGV[1]) end
end
return 0
"""


class EventClaims:
    def __init__(self) -> None:
        client = get_redis()
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)
        self._held: dict[str, str] = {}  # claim key -> token, for the keeper
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    @property
    def ttl_ms(self) -> int:
        return int(settings.EVENT_CLAIM_TTL_SECONDS * 1000)

    @staticmethod
    def _key(event_id: uuid.UUID) -> str:
        return key("event", event_id)

    def claim(self, event_id: uuid.UUID) -> tuple[ClaimOutcome, str | None]:
        """("claimed", token), ("busy", None) while another worker runs it, ("done", None)."""
        token = uuid.uuid4().hex
        claim_key = self._key(event_id)
        # One round trip: SET NX with GET (Redis >= 7) answers who holds it when taken.
        holder = get_redis().set(claim_key, token, nx=True, px=self.ttl_ms, get=True)
        if holder is None:
            with self._lock:
                self._held[claim_key] = token
            return "claimed", token
        return ("done" if holder == DONE else "busy"), None

    def finish(self, event_id: uuid.UUID, token: str) -> None:
        """Mark the event processed for `EVENT_DEDUP_TTL_SECONDS`."""
        self._forget(event_id)
        get_redis().set(self._key(event_id), DONE, ex=settings.EVENT_DEDUP_TTL_SECONDS)

    def release(self, event_id: uuid.UUID, token: str) -> None:
        """Let the next attempt (retry, requeue) claim the event."""
        self._forget(event_id)
        self._release(keys=[self._key(event_id)], args=[token])

    def _forget(self, event_id: uuid.UUID) -> None:
        with self._lock:
            self._held.pop(self._key(event_id), None)

    def start_keeper(self) -> None:
        if self._keeper is None:
            self._stop.clear()
            self._keeper = threading.Thread(target=self._keep, name="event-claims", daemon=True)
            self._keeper.start()

    def stop_keeper(self) -> None:
        if self._keeper is not None:
            self._stop.set()
            self._keeper.join()
            self._keeper = None

    def _keep(self) -> None:
        # Three extensions per TTL: one missed round (a slow Redis) is harmless.
        while not self._stop.wait(self.ttl_ms / 3000):
            with self._lock:
                held = list(self._held.items())
            if not held:
                continue
            try:
                self._extend(
                    keys=[k for k, _ in held], args=[self.ttl_ms, *(token for _, token in held)]
                )
            except Exception:
                logger.exception("could not extend %d event claims", len(held))
