"""Redis resilience helpers: locks, circuit breakers, token buckets, dedup, counters.

Every helper keeps its state in Redis (`settings.REDIS_URL`, keys under `jengu:`),
so all web and worker processes on all machines share it.
"""

from .breaker import BreakerState, CircuitBreaker, CircuitOpenError, all_breakers, reset_breaker
from .bucket import TokenBucket
from .client import get_redis, redis_best_effort
from .counters import CounterSeed, CounterUnseeded, DailyCounter
from .dedup import Deduplicator
from .locks import LockNotAcquired, NamedLock, ProspectLock

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpenError",
    "CounterSeed",
    "CounterUnseeded",
    "DailyCounter",
    "Deduplicator",
    "LockNotAcquired",
    "NamedLock",
    "ProspectLock",
    "TokenBucket",
    "all_breakers",
    "get_redis",
    "redis_best_effort",
    "reset_breaker",
]
