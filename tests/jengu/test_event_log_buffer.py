"""The worker's event-log buffer: batched writes, shutdown flush, failures written
at once, stale rows never overwriting newer ones, and traces still whole."""

from __future__ import annotations

from collections.abc import Iterator
from time import monotonic

import dramatiq
import pytest
from dramatiq import Message
from dramatiq.broker import MessageProxy

from jengu.bus import PermanentError, emit
from jengu.bus.envelope import Envelope, Processing, set_processing
from jengu.events.log_buffer import EventLogBuffer
from jengu.events.log_writer import events_write
from jengu.events.middleware import EventLog
from jengu.events.models import Event
from jengu.events.selectors import trace_flat
from jengu.events.services import event_outcome_row, event_started_row
from tests.brokers import drain

HOUR = 3600.0
pytestmark = pytest.mark.django_db(transaction=True)


def processing() -> Processing:
    return Processing(Envelope.new("TestRecord", parent=None, source="test"), "track", "TestRecord")


def outcome(run: Processing, exception: BaseException | None = None) -> Event:
    return event_outcome_row(processing=run, payload={"key": "k"}, exception=exception, final=True)


def status(run: Processing) -> str | None:
    row = Event.objects.filter(event_id=run.envelope.event_id).first()
    return row.status if row else None


@pytest.fixture
def writes() -> list[int]:
    """How many rows each write of the `buffer` fixture carried."""
    return []


@pytest.fixture
def buffer(writes) -> Iterator[EventLogBuffer]:
    def write(rows) -> None:
        writes.append(len(rows))
        events_write(rows=rows)

    # An hour between timed flushes: only what a test does writes rows.
    buffer = EventLogBuffer(write)
    buffer.start(interval=HOUR)
    yield buffer
    buffer.stop()


def test_buffered_rows_are_written_in_one_flush_on_shutdown(buffer, writes) -> None:
    # Given three finished events waiting in a running worker's buffer
    runs = [processing() for _ in range(3)]
    for run in runs:
        buffer.add(run.envelope.event_id, outcome(run))
    assert not Event.objects.exists()
    # When the worker shuts down
    buffer.stop()
    # Then all three are in the log, and a row added afterwards is written at once
    assert [status(run) for run in runs] == ["succeeded"] * 3 and writes == [3]
    late = processing()
    buffer.add(late.envelope.event_id, outcome(late))
    assert status(late) == "succeeded" and writes == [3, 1]


def test_a_started_row_is_written_only_when_the_run_outlasts_a_flush_period(buffer) -> None:
    short, long = processing(), processing()
    for run in (short, long):
        row = event_started_row(processing=run, payload={"key": "k"})
        buffer.add(run.envelope.event_id, row, delay=HOUR)
    # The short run ends before its started row is due: only the outcome is written
    buffer.add(short.envelope.event_id, outcome(short))
    assert buffer.flush() == 1
    assert (status(short), status(long)) == ("succeeded", None)
    # The long run is still going one flush period later: its started row is written
    assert buffer.flush(now=monotonic() + HOUR + 1) == 1
    assert status(long) == "started"
    started = Event.objects.get(event_id=long.envelope.event_id)
    assert started.started_at is not None and started.finished_at is None


def test_stale_rows_never_overwrite_a_newer_state() -> None:
    run = processing()
    second = Processing(run.envelope.with_retry_count(1), "track", "TestRecord")
    # Given attempt 2 succeeded (flushed first, by another worker process)
    events_write(rows=[outcome(second)])
    # When attempt 1's "retried" row and attempt 2's "started" row arrive late
    events_write(
        rows=[outcome(run, TimeoutError("slow")), event_started_row(processing=second, payload={})]
    )
    # Then the log still says attempt 2 succeeded
    row = Event.objects.get(event_id=run.envelope.event_id)
    assert (row.status, row.attempts, row.error) == ("succeeded", 2, "")
    # And a requeue (the same event emitted again) starts a new run
    emitted = Event(**{**_fields(row), "status": "emitted", "attempts": 0})
    events_write(rows=[emitted])
    events_write(rows=[event_started_row(processing=run, payload={})])
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("started", 1)


def _fields(row: Event) -> dict:
    return {f.name: getattr(row, f.name) for f in Event._meta.fields if f.name != "id"}


def test_a_failure_is_logged_at_once_while_a_success_waits_for_the_flush(settings) -> None:
    settings.EVENT_LOG_FLUSH_SECONDS = HOUR
    middleware = EventLog()
    middleware.buffer.start(interval=HOUR)
    try:
        # Given two events running side by side (so the worker is not idle)
        ok, bad = _message(), _message()
        runs = [_begin(middleware, ok), _begin(middleware, bad)]
        # When one fails for good while the other still runs
        bad.fail()
        _end(middleware, bad, runs[1], PermanentError("no"))
        # Then the failure is in the log already
        assert (status(runs[1]), status(runs[0])) == ("failed", None)
        # And the success is written as soon as the worker is idle
        _end(middleware, ok, runs[0], None)
        assert status(runs[0]) == "succeeded"
        assert middleware.buffer.pending() == 0
    finally:
        middleware.buffer.stop()


def _message() -> MessageProxy:
    envelope = Envelope.new("TestRecord", parent=None, source="test")
    message = Message(
        queue_name="track",
        actor_name="TestRecord",
        args=(),
        kwargs={"key": "k"},
        options={"envelope": envelope.as_dict()},
        message_id=str(envelope.event_id),
    )
    return MessageProxy(message)


def _begin(middleware: EventLog, message: MessageProxy) -> Processing:
    envelope = Envelope.from_dict(message.options["envelope"])
    run = Processing(envelope, "track", "TestRecord")
    set_processing(run)
    middleware.before_process_message(None, message)
    return run


def _end(
    middleware: EventLog, message: MessageProxy, run: Processing, exc: BaseException | None
) -> None:
    set_processing(run)
    middleware.after_process_message(None, message, exception=exc)
    set_processing(None)


@pytest.fixture
def slow_flush_worker(broker, settings) -> Iterator[dramatiq.Worker]:
    # A worker whose timed flush never comes during the test.
    settings.EVENT_LOG_FLUSH_SECONDS = HOUR
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=4)
    worker.start()
    yield worker
    worker.stop()


def test_a_chain_of_events_keeps_its_trace_tree_with_buffered_rows(
    broker, slow_flush_worker, key
) -> None:
    worker = slow_flush_worker
    # When a chain of four events runs, plus one that fails for good
    root = emit("TestChain", {"key": key, "depth": 3})
    failed = emit("TestFlaky", {"key": f"{key}:f", "fail_times": 9, "kind": "permanent"})
    drain(broker, worker)
    # Then the log is complete once the worker is idle, in tree and time order
    flat = trace_flat(root.trace_id)
    assert [node.depth for node in flat] == [0, 1, 2, 3]
    assert [node.event.status for node in flat] == ["succeeded"] * 4
    for parent, child in zip(flat, flat[1:], strict=False):
        assert child.event.parent_id == parent.event.event_id
        assert parent.event.started_at <= child.event.created_at <= child.event.started_at
        assert child.event.started_at <= child.event.finished_at
    assert status_of(failed) == "dead"


def status_of(envelope: Envelope) -> str:
    return Event.objects.get(event_id=envelope.event_id).status
