"""A worker's event-log buffer: rows wait in memory and reach PostgreSQL as one
statement per flush instead of one commit each.

A background thread flushes every `interval` seconds (sooner once `max_rows`
wait); the worker also flushes when it goes idle, so the log is current as soon
as the work is done. A crash loses at most the rows of the last interval; the
events' effects and their dedup marks (Redis) are not buffered.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import monotonic
from typing import Any

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

Write = Callable[[Sequence[Any]], None]


@dataclass
class _Pending:
    row: Any
    due: float


class EventLogBuffer:
    """Latest row per event id, written by `write(rows)` when due.

    Without a running flusher (`start()` not called, or after `stop()`) rows are
    written at once, so nothing depends on the worker's lifecycle hooks.
    """

    def __init__(self, write: Write, *, max_rows: int = 1000, max_pending: int = 100_000) -> None:
        self._write = write
        self.interval = 0.1
        self.max_rows = max_rows
        self.max_pending = max_pending
        self._pending: dict[uuid.UUID, _Pending] = {}
        self._lock = threading.Lock()  # guards _pending and _running
        # One flush at a time, so rows reach the database in the order they were taken.
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._running = False
        self._thread: threading.Thread | None = None

    def add(self, event_id: uuid.UUID, row: Any, *, delay: float = 0.0) -> None:
        """Make `row` the state to write for `event_id`, at the first flush at least
        `delay` seconds from now (a later row for the same id replaces it)."""
        with self._lock:
            if self._running:
                self._pending[event_id] = _Pending(row, monotonic() + delay)
                if len(self._pending) >= self.max_rows:
                    self._wake.set()
                return
        self._write([row])

    def discard(self, event_id: uuid.UUID) -> None:
        with self._lock:
            self._pending.pop(event_id, None)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self, *, everything: bool = False, now: float | None = None) -> int:
        """Write the rows that are due (all with `everything`); returns how many.

        On a failed write the rows go back (unless newer ones came meanwhile) and
        the error is raised.
        """
        with self._flushing:
            now = monotonic() if now is None else now
            with self._lock:
                taken = {
                    event_id: pending
                    for event_id, pending in self._pending.items()
                    if everything or pending.due <= now
                }
                for event_id in taken:
                    del self._pending[event_id]
            if not taken:
                return 0
            try:
                self._write([pending.row for pending in taken.values()])
            except Exception:
                self._put_back(taken)
                raise
            return len(taken)

    def flush_quietly(self) -> None:
        """`flush(everything=True)` for a worker thread: a failure is logged, and the
        rows wait for the flusher's next try."""
        try:
            self.flush(everything=True)
        except Exception:
            logger.exception("event log flush failed; retrying from the flusher")

    def _put_back(self, taken: dict[uuid.UUID, _Pending]) -> None:
        with self._lock:
            if len(self._pending) + len(taken) > self.max_pending:
                logger.error("event log unreachable: dropping %d buffered rows", len(taken))
                return
            for event_id, pending in taken.items():
                self._pending.setdefault(event_id, pending)

    def start(self, *, interval: float) -> None:
        """Start the flusher thread (a worker's `after_worker_boot`)."""
        with self._lock:
            if self._running:
                return
            self._running = True
            self.interval = interval
        self._thread = threading.Thread(target=self._run, name="event-log-flusher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write everything still waiting and stop the flusher; later rows are written
        at once by `add()` (messages that finish while the worker shuts down)."""
        with self._lock:
            if not self._running:
                return
            self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                with self._lock:
                    stopping = not self._running
                # A database restart leaves a broken connection: reopen it.
                close_old_connections()
                try:
                    self.flush(everything=stopping)
                except Exception:
                    logger.exception("event log flush failed; retrying in %.1f s", self.interval)
                if stopping:
                    return
        finally:
            # This thread's own connection; an open one would block dropping the test database.
            connection.close()
