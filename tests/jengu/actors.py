"""Actors used by the bus tests; imported by the tests and by worker subprocesses.

Their behaviour is steered through Redis keys so that an in-process worker and
a `dramatiq` subprocess can both run them.
"""

from __future__ import annotations

import time

from django.db import connection

from jengu.bus import PermanentError, TransientError, current_envelope, emit, event_actor
from jengu.redis_helpers import get_redis

EFFECTS_TABLE = "bus_test_effects"


def _note(key: str) -> None:
    envelope = current_envelope()
    assert envelope is not None
    fields = (envelope.event_id, envelope.trace_id, envelope.parent_id, envelope.retry_count)
    get_redis().rpush(key, "|".join(str(field) for field in fields))


@event_actor("TestRecord", queue="track")
def record(key: str) -> None:
    _note(key)


@event_actor("TestUpstream", queue="compose")
def upstream(key: str, seconds: float = 0.0) -> None:
    """A first pipeline stage (e.g. composing) that takes `seconds`."""
    get_redis().rpush(f"{key}:started", "upstream")
    time.sleep(seconds)
    get_redis().rpush(key, "upstream")


@event_actor("TestDownstream", queue="send")
def downstream(key: str) -> None:
    """A later pipeline stage (e.g. sending)."""
    get_redis().rpush(key, "downstream")


@event_actor("TestChain", queue="track")
def chain(key: str, depth: int) -> None:
    _note(key)
    if depth > 0:
        emit("TestChain", {"key": key, "depth": depth - 1})


@event_actor("TestFlaky", queue="track")
def flaky(key: str, fail_times: int, kind: str = "transient") -> None:
    """Fails its first `fail_times` runs (counted across requeues), then succeeds."""
    client = get_redis()
    attempt = client.incr(key)
    client.rpush(f"{key}:at", repr(time.time()))
    if attempt <= fail_times:
        error = PermanentError if kind == "permanent" else TransientError
        raise error(f"attempt {attempt} failed on purpose")


@event_actor("TestSlow", queue="track")
def slow(key: str) -> None:
    """Long enough for duplicate deliveries to overlap in other threads."""
    get_redis().incr(key)
    time.sleep(0.3)


@event_actor("TestKillable", queue="track")
def killable(key: str) -> None:
    """Blocks until `<key>:release` exists, then writes its fenced side effect."""
    client = get_redis()
    client.incr(f"{key}:runs")
    deadline = time.monotonic() + 60
    while not client.exists(f"{key}:release") and time.monotonic() < deadline:
        time.sleep(0.05)
    envelope = current_envelope()
    assert envelope is not None
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {EFFECTS_TABLE} (event_id) VALUES (%s) ON CONFLICT DO NOTHING",  # noqa: S608
            [str(envelope.event_id)],
        )
        if cursor.rowcount:
            client.incr(f"{key}:effects")
