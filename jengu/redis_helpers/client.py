"""One shared Redis connection pool per process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

#: Every key our helpers write starts with this, so they never clash with the
#: broker (`dramatiq:`) or the cache (`jengu-cache:`).
KEY_PREFIX = "jengu"


def key(*parts: object) -> str:
    """Build a namespaced key: `key("lock", "prospect", 7)` -> `jengu:lock:prospect:7`."""
    return ":".join([KEY_PREFIX, *(str(part) for part in parts)])


@cache
def _client_for(url: str) -> redis.Redis:
    # redis-py's pool notices a fork (pid check) and reconnects in the child,
    # so one cached client per URL is safe in multi-process workers.
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=30,
    )


def get_redis() -> redis.Redis:
    """The process-wide client for `settings.REDIS_URL` (responses decoded to str)."""
    return _client_for(settings.REDIS_URL)


@contextmanager
def redis_best_effort(what: str) -> Iterator[None]:
    """Run bookkeeping whose loss is harmless (a slot given back, a breaker's count).

    If Redis fails, the caller's real work (already written to PostgreSQL) must not
    fail with it: the error is logged and swallowed.
    """
    try:
        yield
    except redis.RedisError as exc:
        logger.warning("%s skipped, Redis failed: %s", what, exc)
