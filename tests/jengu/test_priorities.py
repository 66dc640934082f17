"""A worker finishes what is in flight before it starts new work: later pipeline
stages run before earlier ones waiting in the same worker (scheduler ticks first)."""

from __future__ import annotations

import dramatiq
import pytest

from jengu.bus import emit
from jengu.bus.registry import actor_for
from jengu.redis_helpers import get_redis
from tests.brokers import both_brokers, drain
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_scheduler_ticks_then_later_stages_have_higher_priority() -> None:
    order = ["PollInbox", "InboundEmail", "SendEmail", "EmailSent", "ComposeEmail"]
    order += ["EnrichProspect"]
    priorities = [actor_for(event_type).priority for event_type in order]
    # Dramatiq runs the lowest number first.
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)


@both_brokers
def test_a_waiting_send_runs_before_compose_work_that_arrived_first(broker, key) -> None:
    worker = dramatiq.Worker(broker, worker_timeout=20, worker_threads=1)
    worker.start()
    waiting, redis = worker.work_queue.qsize, get_redis()
    try:
        # The only thread is busy with a long compose...
        emit("TestUpstream", {"key": key, "seconds": 2.0})
        wait_for(lambda: redis.llen(f"{key}:started") == 1, 5, "the first compose to start", 0.005)
        # ...while another compose and then a send wait in the worker, in that order.
        emit("TestUpstream", {"key": key})
        wait_for(lambda: waiting() == 1, 5, "the second compose to be fetched", 0.005)
        emit("TestDownstream", {"key": key})
        wait_for(lambda: waiting() == 2, 5, "the send to be fetched", 0.005)
        assert redis.llen(key) == 0, "the first compose ended before both were waiting"
        drain(broker, worker)
    finally:
        worker.stop()
        redis.delete(f"{key}:started")

    assert redis.lrange(key, 0, -1) == ["upstream", "downstream", "upstream"]
