"""A worker finishes what is in flight before it starts new work: later pipeline
stages run before earlier ones waiting in the same worker (scheduler ticks first)."""

from __future__ import annotations

import time

import dramatiq
import pytest

from jengu.bus import emit
from jengu.bus.registry import actor_for
from jengu.redis_helpers import get_redis

pytestmark = pytest.mark.django_db(transaction=True)


def test_scheduler_ticks_then_later_stages_have_higher_priority() -> None:
    order = ["PollInbox", "InboundEmail", "SendEmail", "EmailSent", "ComposeEmail"]
    order += ["EnrichProspect"]
    priorities = [actor_for(event_type).priority for event_type in order]
    # Dramatiq runs the lowest number first.
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)


def _wait_for(condition, what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_a_waiting_send_runs_before_compose_work_that_arrived_first(broker, key) -> None:
    worker = dramatiq.Worker(broker, worker_timeout=20, worker_threads=1)
    worker.start()
    waiting, redis = worker.work_queue.qsize, get_redis()
    try:
        # The only thread is busy with a long compose...
        emit("TestUpstream", {"key": key, "seconds": 2.0})
        _wait_for(lambda: redis.llen(f"{key}:started") == 1, "the first compose did not start")
        # ...while another compose and then a send wait in the worker, in that order.
        emit("TestUpstream", {"key": key})
        _wait_for(lambda: waiting() == 1, "the second compose was not fetched")
        emit("TestDownstream", {"key": key})
        _wait_for(lambda: waiting() == 2, "the send was not fetched")
        assert redis.llen(key) == 0, "the first compose ended before both were waiting"
        broker.join("compose", timeout=10000)
        broker.join("send", timeout=10000)
        worker.join()
    finally:
        worker.stop()
        redis.delete(f"{key}:started")

    assert redis.lrange(key, 0, -1) == ["upstream", "downstream", "upstream"]
