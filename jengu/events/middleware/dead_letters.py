"""Keep events that failed for good as `DeadLetter` rows for review and requeue."""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.middleware import Middleware

from jengu.bus.envelope import current_processing

logger = logging.getLogger(__name__)


class DeadLetters(Middleware):
    """After `EventRetries` gave up (`message.failed`), store the dead letter.

    A requeued dead letter carries `requeued_dead_letter` in its options; when
    it then succeeds, its row is marked resolved.
    """

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
        # Imported when used: Dramatiq builds its middleware while Django is still
        # loading apps (django_dramatiq's AppConfig), before models may load.
        from jengu.events import services

        if exception is None:
            dead_letter_id = message.options.get("requeued_dead_letter")
            if dead_letter_id:
                services.dead_letter_mark_resolved(dead_letter_id=dead_letter_id)
            return
        if not message.failed:
            return
        try:
            dead_letter = services.dead_letter_record(
                processing=processing,
                payload=message.kwargs,
                exception=exception,
                options=message.options,
            )
        except Exception:
            # The broker keeps its own copy (`<queue>.XQ`); the event log says "failed".
            logger.exception("could not store dead letter for %s", processing.envelope.event_id)
            return
        processing.dead_letter_id = dead_letter.pk
