"""Which messages a process's workers are running, to tell when they go idle.

A middleware that buffers writes (the event log, the metrics) writes at once
when its worker has nothing left to do, so what it records is current as soon
as the work is done; while messages wait, its timed batches are cheaper.
"""

from __future__ import annotations

import threading
from time import monotonic
from typing import Any

import dramatiq


class InFlight:
    """Messages between a middleware's before- and after-hooks, with their start
    times, and the workers whose local queues count as waiting work.

    Each middleware keeps its own: one further down the chain sees a message
    finish before one further up does.
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._workers: list[dramatiq.Worker] = []
        self._lock = threading.Lock()

    def add_worker(self, worker: dramatiq.Worker) -> None:
        with self._lock:
            self._workers.append(worker)

    def remove_worker(self, worker: dramatiq.Worker) -> None:
        with self._lock:
            self._workers.remove(worker)

    def begin(self, message: Any) -> None:
        with self._lock:
            self._started[message.message_id] = monotonic()

    def end(self, message: Any) -> float | None:
        """Forget `message`; returns when it began (None if `begin` never saw it)."""
        with self._lock:
            return self._started.pop(message.message_id, None)

    def idle(self) -> bool:
        """Nothing runs and nothing waits in the workers' local queues."""
        with self._lock:
            return not self._started and all(w.work_queue.empty() for w in self._workers)
