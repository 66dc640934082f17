"""A worker finishes what is in flight before it starts new work: later pipeline
stages run before earlier ones waiting in the same worker."""

from __future__ import annotations

import time

import dramatiq
import pytest

from jengu.bus import emit
from jengu.bus.registry import actor_for
from jengu.redis_helpers import get_redis

pytestmark = pytest.mark.django_db(transaction=True)


def test_later_stages_have_higher_priority() -> None:
    order = ["InboundEmail", "SendEmail", "EmailSent", "ComposeEmail", "EnrichProspect"]
    priorities = [actor_for(event_type).priority for event_type in order]
    # Dramatiq runs the lowest number first.
    assert priorities == sorted(priorities) and len(set(priorities)) == len(priorities)


def test_a_waiting_send_runs_before_compose_work_that_arrived_first(broker, key) -> None:
    worker = dramatiq.Worker(broker, worker_timeout=20, worker_threads=1)
    worker.start()
    try:
        emit("TestUpstream", {"key": key, "seconds": 0.5})  # keeps the only thread busy
        time.sleep(0.2)
        emit("TestUpstream", {"key": key})
        emit("TestDownstream", {"key": key})
        broker.join("compose", timeout=10000)
        broker.join("send", timeout=10000)
        worker.join()
    finally:
        worker.stop()

    assert get_redis().lrange(key, 0, -1) == ["upstream", "downstream", "upstream"]
