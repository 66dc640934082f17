"""Process each event id at most once at a time, and once in total."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware, SkipMessage

from ..claims import EventClaims
from ..envelope import current_envelope

logger = logging.getLogger(__name__)

_token: ContextVar[str | None] = ContextVar("jengu_claim_token", default=None)


class Deduplication(Middleware):
    """Claims the event id before the actor runs (Redis `SET NX` with TTL).

    - already processed: the message is a duplicate and is dropped;
    - another worker is running it right now: this copy comes back after one
      claim TTL (if that worker dies, its claim lapses and this copy runs);
    - claimed: the actor runs; success marks the id done, failure frees it.

    Redis dedup saves work; side effects still need their PostgreSQL fence.
    """

    def __init__(self) -> None:
        self._claims: EventClaims | None = None

    @property
    def claims(self) -> EventClaims:
        # Built on first use: settings and Redis are not needed to load the broker.
        if self._claims is None:
            self._claims = EventClaims()
        return self._claims

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.claims.start_keeper()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.claims.stop_keeper()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        envelope = current_envelope()
        if envelope is None:
            return
        outcome, token = self.claims.claim(envelope.event_id)
        if outcome == "claimed":
            _token.set(token)
            return
        if outcome == "busy":
            logger.info("event %s is running elsewhere; checking again later", envelope.event_id)
            broker.enqueue(message.copy(), delay=self.claims.ttl_ms)
        else:
            logger.info("event %s was already processed; duplicate dropped", envelope.event_id)
        raise SkipMessage(f"duplicate delivery of event {envelope.event_id}")

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        envelope, token = current_envelope(), _token.get()
        if envelope is None or token is None:
            return
        _token.set(None)
        if exception is None:
            self.claims.finish(envelope.event_id, token)
        else:
            self.claims.release(envelope.event_id, token)
