"""Record every processed event in the event log (started, then its outcome)."""

from __future__ import annotations

from typing import Any

import dramatiq
from django.conf import settings
from dramatiq.middleware import Middleware

from jengu.bus.envelope import current_processing
from jengu.bus.in_flight import InFlight

from ..log_buffer import EventLogBuffer


def _write(rows: Any) -> None:
    # Imported when used, here and in the hooks: Dramatiq builds its middleware while
    # Django is still loading apps (django_dramatiq's AppConfig), before models may load.
    from jengu.events.log_writer import events_write

    events_write(rows=rows)


class EventLog(Middleware):
    """Logs each attempt's outcome (`succeeded` / `retried` / `dead` / `failed`)
    with duration and error, and `started` for runs longer than one flush period.

    Rows go through the worker's `EventLogBuffer` (one statement per flush,
    flushed by a thread started at worker boot and whenever the worker goes
    idle). Failures are written at once: they are rare, and the log must not
    lose them. Runs its after-hook after `EventRetries` and `DeadLetters`, so it
    knows the final decision.
    """

    def __init__(self) -> None:
        self.buffer = EventLogBuffer(_write)
        self._in_flight = InFlight()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._in_flight.add_worker(worker)
        self.buffer.start(interval=settings.EVENT_LOG_FLUSH_SECONDS)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._in_flight.remove_worker(worker)
        self.buffer.stop()

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        processing = current_processing()
        if processing is None:
            return
        from jengu.events.services import event_started_row

        self._in_flight.begin(message)
        # Due after one flush period: a short run's outcome replaces it unwritten.
        row = event_started_row(processing=processing, payload=message.kwargs)
        self.buffer.add(processing.envelope.event_id, row, delay=self.buffer.interval)

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
        from jengu.events.services import event_outcome_row

        try:
            row = event_outcome_row(
                processing=processing,
                payload=message.kwargs,
                exception=exception,
                final=message.failed,
            )
            event_id = processing.envelope.event_id
            if exception is None:
                self.buffer.add(event_id, row)
            else:
                self.buffer.discard(event_id)
                _write([row])
        finally:
            self._finished(message)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        self._finished(message)

    def _finished(self, message: Any) -> None:
        self._in_flight.end(message)
        # Write before this last message is acknowledged, so the log is current
        # once the queue is drained.
        if self._in_flight.idle():
            self.buffer.flush_quietly()
