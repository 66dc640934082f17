"""Record every processed event in the event log (started, then its outcome)."""

from __future__ import annotations

from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from ..envelope import current_processing


class EventLog(Middleware):
    """Writes `started` before the actor and `succeeded` / `retried` / `dead` /
    `failed` after it, with duration and error. Runs its after-hook after
    `EventRetries` and `DeadLetters`, so it knows the final decision."""

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        processing = current_processing()
        if processing is None:
            return
        from jengu.events.services import event_record_started

        event_record_started(processing=processing, payload=message.kwargs)

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        processing = current_processing()
        if processing is None:
            return
        from jengu.events.services import event_record_outcome

        event_record_outcome(
            processing=processing,
            payload=message.kwargs,
            exception=exception,
            final=message.failed,
        )
