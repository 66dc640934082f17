"""Fixtures for the bus: a flushed Redis broker and an in-process worker (the
django_dramatiq test pattern), plus a helper that waits for every queue."""

from __future__ import annotations

import uuid

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker

from jengu.bus.policies import QUEUES
from jengu.redis_helpers import get_redis
from tests.own_redis import own_redis  # noqa: F401 - fixture

from . import actors  # noqa: F401  (declares the test actors on the broker)


@pytest.fixture
def broker() -> RedisBroker:
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def worker(broker: RedisBroker, transactional_db: None) -> dramatiq.Worker:
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=4)
    worker.start()
    yield worker
    worker.stop()


def drain(broker: RedisBroker, worker: dramatiq.Worker, timeout_ms: int = 30000) -> None:
    """Wait until every queue, delay queue and in-flight set is empty twice in a row
    (one event's actor may emit into another queue while we look)."""
    queues = sorted(broker.get_declared_queues() | set(QUEUES))
    quiet_passes = 0
    while quiet_passes < 2:
        busy = False
        for queue in queues:
            if broker.do_qsize(queue):
                busy = True
                broker.join(queue, interval=20, timeout=timeout_ms)
        worker.join()
        quiet_passes = 0 if busy else quiet_passes + 1


@pytest.fixture
def key() -> str:
    """A Redis key unique to the test; removed afterwards."""
    name = f"test:{uuid.uuid4().hex}"
    yield name
    client = get_redis()
    leftovers = list(client.scan_iter(f"{name}*"))
    if leftovers:
        client.delete(*leftovers)
