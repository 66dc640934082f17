"""Make the running message's envelope the "current event"."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from ..envelope import Envelope, Processing, set_processing


class EnvelopeContext(Middleware):
    """Sets the current envelope for the actor call (so `emit()` inside it makes
    children on the same trace, and log lines carry its ids) and clears it after.
    Messages without an envelope (plain Dramatiq actors, cron) are left alone."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        data = message.options.get("envelope")
        if data is None:
            return
        envelope = Envelope.from_dict(data).with_retry_count(message.options.get("retries", 0))
        set_processing(Processing(envelope, message.queue_name, message.actor_name))

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        set_processing(None)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        set_processing(None)
