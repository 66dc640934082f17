"""Regions for tests: `JENGU_REGIONS=us-east,eu-west` with fast heartbeats.

The fixture declares both regions' queues on the test's broker (either one) and
leaves no heartbeat, down-queue record or cached liveness behind.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jengu.bus.middleware import regional_queues_declare
from jengu.failover import DOWN_KEY
from jengu.heartbeats import WORKERS_KEY
from jengu.metrics import redis_client
from jengu.region_config import parse_regions
from jengu.regions import liveness_cache

REGIONS = "us-east,eu-west"
# What a worker process of the regions tests runs with (its own settings from the env).
REGION_ENV = {
    "JENGU_REGIONS": REGIONS,
    "WORKER_HEARTBEAT_SECONDS": "0.2",
    "JENGU_REGION_DOWN_SECONDS": "1",
}


def _forget() -> None:
    redis_client().delete(WORKERS_KEY, DOWN_KEY)
    liveness_cache.clear()


@pytest.fixture
def two_regions(settings, broker) -> Iterator[None]:
    settings.JENGU_REGIONS = parse_regions(REGIONS)
    settings.WORKER_HEARTBEAT_SECONDS = 0.2
    settings.JENGU_REGION_DOWN_SECONDS = 1
    regional_queues_declare(broker)
    _forget()
    yield
    _forget()
