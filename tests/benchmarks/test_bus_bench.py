"""Event bus throughput and overhead, and Redis helper ops/s (`make bench`).

1. no-op events, end to end as deployed: a worker process (`dramatiq`, 1 process
   x 8 threads, as `rundramatiq` starts it) runs while this process emits them
   one at a time; from the first emit to the last `succeeded` row in the event log.
   The same with plain Dramatiq messages (no envelope, so the bus middleware
   stand aside) as the baseline.
2. each side alone: emit N (one at a time, then with `emit_many`), then one
   worker in this process (8 threads) drains them. The load average is printed:
   the machine is shared.
3. the bus's own work per event, one call at a time against the real servers:
   envelope + `emitted` row, Redis claim/done, and the outcome row through the
   worker's buffer (its flush shared by the rows of one flush).
4. token bucket and circuit breaker calls per second, 1 and 8 threads.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable

import dramatiq
import pytest
from django.db import transaction

from jengu.bus import emit, emit_many
from jengu.bus.claims import EventClaims
from jengu.bus.emit import Outgoing, send_batch
from jengu.bus.envelope import Envelope, Processing
from jengu.events import services
from jengu.events.log_buffer import EventLogBuffer
from jengu.events.log_writer import events_write
from jengu.events.models import Event
from jengu.redis_helpers import CircuitBreaker, TokenBucket
from tests.waiting import wait_for
from tests.worker_processes import DEPLOYED_ENV, worker_booted, worker_processes

from .bus_actors import bench_plain
from .report import print_table

EVENTS = 2000
THREADS = 8
# Rows per flush in the overhead measure: ~100 ms of a worker at 500 events/s.
FLUSH_ROWS = 50


def _drain(broker: dramatiq.Broker, done: Callable[[], bool]) -> float:
    """Start a worker, wait until `done()`, return the seconds it took."""
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=THREADS)
    started = time.perf_counter()
    worker.start()
    try:
        while not done():
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        worker.stop()


def _per_call_ms(call: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - started) * 1000 / repeat


def _ops_per_second(call: Callable[[], object], threads: int, seconds: float = 1.0) -> float:
    counts = [0] * threads

    def run(index: int) -> None:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            call()
            counts[index] += 1

    pool = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(counts) / seconds


@pytest.fixture
def broker(transactional_db: None) -> dramatiq.Broker:
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def test_event_throughput_and_overhead(broker: dramatiq.Broker) -> None:
    load_before = _load()
    succeeded = Event.objects.filter(type="BenchNoop", status=Event.Status.SUCCEEDED)

    emit_seconds = _timed(lambda: [emit("BenchNoop", {"n": n}) for n in range(EVENTS)])
    bus_seconds = _drain(broker, lambda: succeeded.count() == EVENTS)
    many_seconds = _timed(_emit_many)
    many_bus_seconds = _drain(broker, lambda: succeeded.count() == 2 * EVENTS)
    assert succeeded.count() == 2 * EVENTS

    plain_emit_seconds = _timed(lambda: [bench_plain.send(n) for n in range(EVENTS)])
    plain_seconds = _drain(broker, lambda: broker.do_qsize("track") == 0)

    overhead = _overhead_per_event_ms(200)
    rows = [
        ["bus: emit, one at a time (envelope + event log + enqueue)", _rate(emit_seconds), ""],
        ["bus: emit_many, 100 per call", _rate(many_seconds), ""],
        ["bus: worker 1 process x 8 threads -> succeeded", _rate(bus_seconds), ""],
        ["bus: emit, then drain (both phases, one process)", _rate(emit_seconds + bus_seconds), ""],
        ["bus: emit_many, then drain", _rate(many_seconds + many_bus_seconds), ""],
        ["plain dramatiq: send", _rate(plain_emit_seconds), ""],
        ["plain dramatiq: worker 1 x 8", _rate(plain_seconds), ""],
        ["plain dramatiq: send, then drain", _rate(plain_emit_seconds + plain_seconds), ""],
        *[[name, f"{ms:.2f} ms", ""] for name, ms in overhead.items()],
    ]
    title = (
        f"Event bus, {EVENTS} no-op events, each side alone "
        f"(load average {load_before} -> {_load()})"
    )
    print_table(title, ["measure", "value", "target"], rows)


def _emit_many() -> None:
    for start in range(0, EVENTS, 100):
        with transaction.atomic():
            emit_many("BenchNoop", [{"n": n} for n in range(start, start + 100)])


def _rate(seconds: float) -> str:
    return f"{EVENTS / seconds:,.0f}/s"


def _overhead_per_event_ms(repeat: int) -> dict[str, float]:
    """The bus's own work per event, sequentially, without the broker round trips
    that plain Dramatiq pays as well."""
    claims = EventClaims()
    buffer = EventLogBuffer(lambda rows: events_write(rows=rows))

    def envelope_and_log() -> None:
        send_batch([Outgoing(Envelope.new("BenchNoop", parent=None, source="bench"), {"n": 0})])

    def emit_in_transaction() -> None:
        # Inside the caller's transaction (rolled back, so nothing is enqueued: plain
        # Dramatiq pays the enqueue too) the bus adds the envelope and one INSERT.
        with transaction.atomic():
            for _ in range(repeat):
                envelope_and_log()
            transaction.set_rollback(True)

    def emit_alone() -> None:
        # Outside a transaction the row is its own statement and commit (on_commit runs
        # at once, so the enqueue is measured too and taken off below).
        envelope_and_log()

    def enqueue_only() -> None:
        bench_plain.send(0)

    def process_side() -> None:
        # What the middleware do around one actor call: claim, started row (buffered,
        # replaced unwritten by the outcome), outcome row, done mark.
        envelope = Envelope.new("BenchNoop", parent=None, source="bench")
        processing = Processing(envelope, "track", "BenchNoop")
        _, token = claims.claim(envelope.event_id)
        started = services.event_started_row(processing=processing, payload={"n": 0})
        buffer.add(envelope.event_id, started, delay=60)
        outcome = services.event_outcome_row(
            processing=processing, payload={"n": 0}, exception=None, final=False
        )
        buffer.add(envelope.event_id, outcome)
        claims.finish(envelope.event_id, token)

    def process_and_flush() -> None:
        for _ in range(FLUSH_ROWS):
            process_side()
        buffer.flush(everything=True)

    in_transaction_ms = _per_call_ms(emit_in_transaction, 1) / repeat
    alone_ms = _per_call_ms(emit_alone, repeat) - _per_call_ms(enqueue_only, repeat)
    buffer.start(interval=3600)
    try:
        process_ms = _per_call_ms(process_and_flush, repeat // FLUSH_ROWS) / FLUSH_ROWS
    finally:
        buffer.stop()
    return {
        "overhead: envelope + emitted row, inside a transaction": in_transaction_ms,
        "overhead: envelope + emitted row + own commit (emit outside a transaction)": alone_ms,
        f"overhead: claim + outcome row (flushed {FLUSH_ROWS} at a time) + done": process_ms,
        "overhead: total per event, emit in a transaction (target <= 2 ms)": in_transaction_ms
        + process_ms,
        "overhead: total per event, emit alone": alone_ms + process_ms,
    }


def test_redis_helper_ops_per_second(db: None) -> None:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    bucket = TokenBucket(name, capacity=10**9, refill_per_second=10**9)
    breaker = CircuitBreaker(name, failure_threshold=10**9)

    def breaker_call() -> None:
        breaker.allow()
        breaker.record_success()

    rows = []
    for threads in (1, THREADS):
        rows.append(
            [
                str(threads),
                f"{_ops_per_second(bucket.try_acquire, threads):,.0f}",
                f"{_ops_per_second(breaker.allow, threads):,.0f}",
                f"{_ops_per_second(breaker_call, threads):,.0f}",
            ]
        )
    header = ["threads", "bucket try_acquire/s", "breaker allow/s", "allow+success/s"]
    print_table("Redis helpers (one process)", header, rows)


def _pipelined_seconds(send: Callable[[int], object], done: Callable[[], bool]) -> float:
    started = time.perf_counter()
    for n in range(EVENTS):
        send(n)
    while not done():
        time.sleep(0.01)
    return time.perf_counter() - started


def test_end_to_end_with_a_worker_process(broker: dramatiq.Broker, tmp_path) -> None:
    load_before = _load()
    succeeded = Event.objects.filter(type="BenchNoop", status=Event.Status.SUCCEEDED)
    with worker_processes(
        log_dir=tmp_path,
        modules=["tests.benchmarks.bus_actors"],
        queues=["track"],
        threads=THREADS,
        env=DEPLOYED_ENV,
    ) as start:
        worker = start()
        wait_for(lambda: worker_booted(worker), 60, "the worker process to start")
        bus_seconds = _pipelined_seconds(
            lambda n: emit("BenchNoop", {"n": n}), lambda: succeeded.count() == EVENTS
        )
        plain_seconds = _pipelined_seconds(bench_plain.send, lambda: broker.do_qsize("track") == 0)
    assert succeeded.count() == EVENTS
    title = (
        f"Event bus end to end, {EVENTS} no-op events emitted one at a time while a worker "
        f"process (1 x {THREADS} threads) runs them (load average {load_before} -> {_load()})"
    )
    rows = [
        ["bus: emit -> worker -> succeeded in the event log", _rate(bus_seconds), ">= 500/s"],
        ["plain dramatiq: send -> worker process -> done", _rate(plain_seconds), ""],
    ]
    print_table(title, ["measure", "value", "target"], rows)
