"""Fixtures for the bus: a flushed broker (Redis, or both for `@both_brokers` tests)
and an in-process worker (the django_dramatiq test pattern)."""

from __future__ import annotations

import uuid

import dramatiq
import pytest

from jengu.redis_helpers import get_redis
from tests.own_redis import own_redis  # noqa: F401 - fixture

from . import actors  # noqa: F401  (declares the test actors on the broker)


@pytest.fixture
def worker(broker: dramatiq.Broker, transactional_db: None) -> dramatiq.Worker:
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=4)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def key() -> str:
    """A Redis key unique to the test; removed afterwards."""
    name = f"test:{uuid.uuid4().hex}"
    yield name
    client = get_redis()
    leftovers = list(client.scan_iter(f"{name}*"))
    if leftovers:
        client.delete(*leftovers)
