"""Worker middleware: a running worker beats into Redis and counts what it processes."""

import os
import time

import dramatiq
import pytest

from jengu.bus import PermanentError, emit, event_actor
from jengu.health import workers_alive
from jengu.metrics import redis_client

pytestmark = pytest.mark.django_db(transaction=True)


@event_actor("ObservabilityOk", queue="track")
def succeed() -> None:
    pass


@event_actor("ObservabilityBoom", queue="track")
def explode() -> None:
    raise PermanentError("boom")


def wait_until(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def worker(settings):
    # No timed metrics flush during a test: the counts are written because the worker went idle.
    settings.METRICS_FLUSH_SECONDS = 3600
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()
    broker.flush_all()


def this_worker_is_alive() -> bool:
    # Other tests' SIGKILLed worker processes may still look fresh; count only ours.
    return any(beat.pid == os.getpid() for beat in workers_alive())


def test_running_worker_is_alive_and_disappears_on_shutdown(worker):
    assert wait_until(this_worker_is_alive)

    worker.stop()

    assert not this_worker_is_alive()


def test_a_second_worker_in_the_same_process_beats_too(worker):
    worker.stop()
    assert not this_worker_is_alive()

    second = dramatiq.Worker(dramatiq.get_broker(), worker_timeout=100, worker_threads=1)
    second.start()
    try:
        assert wait_until(this_worker_is_alive)
    finally:
        second.stop()


def test_processed_and_failed_messages_are_counted_per_queue_and_type(worker):
    broker = dramatiq.get_broker()
    emit("ObservabilityOk", {})
    emit("ObservabilityOk", {})
    emit("ObservabilityBoom", {})
    broker.join("track")
    worker.join()

    totals = {k.decode(): int(v) for k, v in redis_client().hgetall("jengu:metrics:total").items()}
    assert totals["events_processed|outcome=ok|queue=track|type=ObservabilityOk"] == 2
    assert totals["events_processed|outcome=failed|queue=track|type=ObservabilityBoom"] == 1
