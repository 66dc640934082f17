"""Redis helpers against a real Redis, hammered from threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest

from jengu.events.models import Event
from jengu.redis_helpers import (
    CircuitBreaker,
    CounterSeed,
    CounterUnseeded,
    DailyCounter,
    Deduplicator,
    NamedLock,
    ProspectLock,
    TokenBucket,
    all_breakers,
    get_redis,
    reset_breaker,
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def together(n: int, fn: Callable[[], Any]) -> list[Any]:
    """Run `fn` in `n` threads released at the same instant."""
    barrier = threading.Barrier(n)

    def run() -> Any:
        barrier.wait()
        return fn()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: run(), range(n)))


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# --- circuit breaker -------------------------------------------------------------


@pytest.mark.django_db
def test_breaker_opens_at_the_threshold_and_refuses_calls() -> None:
    breaker = CircuitBreaker(unique("cb"), failure_threshold=3, reset_timeout=60)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed" and breaker.allow()

    breaker.record_failure()

    assert breaker.state == "open"
    assert not breaker.allow()
    assert Event.objects.filter(type="breaker.opened", payload__breaker=breaker.name).exists()


@pytest.mark.django_db
def test_a_success_clears_the_failure_streak() -> None:
    breaker = CircuitBreaker(unique("cb"), failure_threshold=2)
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == "closed"


@pytest.mark.django_db
def test_half_open_lets_one_probe_through_and_a_success_closes() -> None:
    breaker = CircuitBreaker(unique("cb"), failure_threshold=1, reset_timeout=0.2)
    breaker.record_failure()
    assert not breaker.allow()

    wait_until(lambda: breaker.state == "half_open")
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # everyone else waits for it

    assert breaker.record_success()  # it closed the breaker
    assert breaker.state == "closed" and breaker.allow()
    assert not breaker.record_success()  # already closed
    types = set(Event.objects.filter(payload__breaker=breaker.name).values_list("type", flat=True))
    assert types == {"breaker.opened", "breaker.half_opened", "breaker.closed"}


@pytest.mark.django_db
def test_a_failed_probe_opens_the_breaker_again() -> None:
    breaker = CircuitBreaker(unique("cb"), failure_threshold=1, reset_timeout=0.2)
    breaker.record_failure()
    wait_until(lambda: breaker.state == "half_open")
    assert breaker.allow()

    breaker.record_failure()

    assert breaker.state == "open" and not breaker.allow()


@pytest.mark.django_db
def test_open_for_honours_retry_after_and_reset_closes() -> None:
    breaker = CircuitBreaker(unique("cb"))
    breaker.open_for(120)
    snapshot = breaker.snapshot()
    assert snapshot.state == "open" and snapshot.open_until is not None
    assert breaker.name in {state.name for state in all_breakers()}

    reset_breaker(breaker.name)

    assert breaker.state == "closed" and breaker.allow()


@pytest.mark.django_db(transaction=True)
def test_breaker_trips_once_under_concurrent_failures() -> None:
    breaker = CircuitBreaker(unique("cb"), failure_threshold=3, reset_timeout=60)

    together(24, breaker.record_failure)

    assert breaker.state == "open"
    opened = Event.objects.filter(type="breaker.opened", payload__breaker=breaker.name)
    assert opened.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("probes", [1, 3])
def test_half_open_hands_out_exactly_its_probe_slots_to_racing_threads(probes: int) -> None:
    breaker = CircuitBreaker(
        unique("cb"), failure_threshold=1, reset_timeout=0.2, half_open_max_calls=probes
    )
    breaker.record_failure()
    wait_until(lambda: breaker.state == "half_open")

    allowed = together(24, breaker.allow)

    assert sum(allowed) == probes


# --- token bucket ----------------------------------------------------------------


def test_bucket_allows_a_burst_then_refuses() -> None:
    bucket = TokenBucket(unique("tb"), capacity=5, refill_per_second=0.01)
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    with pytest.raises(ValueError):
        bucket.try_acquire(6)


def test_bucket_acquire_waits_for_the_refill() -> None:
    bucket = TokenBucket(unique("tb"), capacity=1, refill_per_second=20)
    assert bucket.try_acquire()
    assert bucket.acquire(max_wait=2)
    slow = TokenBucket(unique("tb"), capacity=1, refill_per_second=0.01)
    assert slow.try_acquire()
    assert not slow.acquire(max_wait=0.05)  # the refill would take 100 s: give up at once


def _redis_seconds() -> float:
    seconds, micros = get_redis().time()
    return seconds + micros / 1_000_000


def _hammer(
    name: str, capacity: int, rate: float, seconds: float, threads: int
) -> tuple[int, float, float]:
    """Grants from `threads` threads over `seconds`, with the Redis time just before
    the first call and just after the last."""
    bucket = TokenBucket(name, capacity, rate)
    granted = 0
    lock = threading.Lock()

    def run() -> None:
        nonlocal granted
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if bucket.try_acquire():
                with lock:
                    granted += 1

    pool = [threading.Thread(target=run) for _ in range(threads)]
    first = _redis_seconds()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return granted, first, _redis_seconds()


# At 2,000 tokens/s every 0.1 ms counts: a refill timestamp rounded to 0.1 ms (Lua's
# tostring) gave out ~1 % too many.
@pytest.mark.parametrize(("capacity", "rate"), [(20, 100.0), (5, 2000.0)])
def test_bucket_never_grants_more_than_capacity_plus_refill_across_processes(
    capacity: int, rate: float
) -> None:
    name = unique("tb")
    context = multiprocessing.get_context("fork")
    with context.Pool(2) as pool:
        results = pool.starmap(_hammer, [(name, capacity, rate, 1.5, 8)] * 2)

    # Every grant happened between the earliest first call and the latest last one.
    elapsed = max(last for _, _, last in results) - min(first for _, first, _ in results)
    granted = sum(count for count, _, _ in results)
    assert granted <= capacity + rate * elapsed
    assert granted >= capacity  # it did hand out tokens, not refuse everything


# --- locks -----------------------------------------------------------------------


def test_only_one_of_many_threads_gets_the_lock() -> None:
    name = unique("lock")
    locks = [NamedLock(name, ttl=10) for _ in range(12)]
    iterator = iter(locks)
    mutex = threading.Lock()

    def take() -> bool:
        with mutex:
            lock = next(iterator)
        return lock.try_acquire()

    assert sum(together(12, take)) == 1
    for lock in locks:
        lock.release()


def test_non_owner_release_is_refused() -> None:
    name = unique("lock")
    owner, other = NamedLock(name, ttl=10), NamedLock(name, ttl=10)
    assert owner.try_acquire()

    assert not other.release()

    assert owner.locked() and owner.owned()
    assert not other.try_acquire()
    assert owner.release()
    assert other.try_acquire() and other.release()


def test_an_expired_lock_goes_to_the_next_caller_and_the_old_owner_cannot_touch_it() -> None:
    name = unique("lock")
    first, second = NamedLock(name, ttl=0.2), NamedLock(name, ttl=10)
    assert first.try_acquire()

    wait_until(lambda: not first.locked())
    assert second.try_acquire()

    assert not first.extend() and not first.release()
    assert second.owned()
    second.release()


def test_extend_keeps_the_lock_alive_and_context_manager_releases() -> None:
    lock = ProspectLock(uuid.uuid4().int % 10**9, ttl=1)
    with lock:
        assert lock.extend(30)
        assert get_redis().pttl(lock._lock.name) > 5000
    assert not lock.locked()


# --- dedup and daily counters ----------------------------------------------------


def test_deduplicator_lets_only_the_first_caller_through() -> None:
    dedup = Deduplicator(unique("dd"), ttl=60)
    assert sum(together(10, lambda: dedup.first_seen("x"))) == 1
    assert dedup.seen("x")
    dedup.forget("x")
    assert dedup.first_seen("x")


def test_daily_counter_never_reserves_beyond_the_cap() -> None:
    counter = DailyCounter(unique("dc"))
    today = date(2025, 1, 6)

    results = together(16, lambda: [counter.reserve("inbox-1", 37, today) for _ in range(5)])

    assert sum(sum(batch) for batch in results) == 37
    assert counter.count("inbox-1", today) == 37
    assert counter.count("inbox-1", date(2025, 1, 7)) == 0
    assert counter.release("inbox-1", today) == 36
    assert counter.reserve("inbox-1", 37, today)


def test_daily_counter_starts_a_missing_counter_from_its_seed_once() -> None:
    counter = DailyCounter(unique("dc"))
    today = date(2025, 1, 6)
    seeds = []

    def counts() -> dict[str, int]:
        seeds.append(1)
        return {"inbox-1": 4}

    seed = CounterSeed(counts=counts)

    assert counter.reserve("inbox-1", 5, today, seed=seed)
    assert not counter.reserve("inbox-1", 5, today, seed=seed)  # 4 from the records + 1
    assert counter.count("inbox-1", today) == 5
    assert len(seeds) == 1


def test_a_seed_marker_means_missing_counters_are_zero() -> None:
    counter = DailyCounter(unique("dc"))
    today = date(2025, 1, 6)
    seed = CounterSeed(counts=lambda: {"a.example": 2}, marker=unique("seeded"))

    assert counter.reserve("b.example", 2, today, seed=seed)  # seeds every domain, then b
    assert counter.count("a.example", today) == 2
    assert not counter.reserve("a.example", 2, today, seed=seed)


def test_a_seed_that_did_not_stick_is_tried_again() -> None:
    # As when Redis loses its data between a seed and the reserve after it: the
    # reserve finds the day unseeded again and seeds once more.
    counter = DailyCounter(unique("dc"))
    today = date(2025, 1, 6)
    seeds = []

    def counts() -> dict[str, int]:
        seeds.append(1)
        return {} if len(seeds) == 1 else {"x": 4}

    assert counter.reserve("x", 5, today, seed=CounterSeed(counts=counts))
    assert len(seeds) == 2
    assert counter.count("x", today) == 5  # four from the second seed, then this one


def test_a_seed_that_never_sticks_refuses_to_reserve() -> None:
    counter = DailyCounter(unique("dc"))
    today = date(2025, 1, 6)

    with pytest.raises(CounterUnseeded):
        counter.reserve("x", 5, today, seed=CounterSeed(counts=dict))
    assert counter.count("x", today) == 0
