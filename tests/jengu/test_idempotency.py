"""A processed event id is never processed twice: concurrent duplicate deliveries,
and a worker process killed in the middle of a message."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from dramatiq import Message

from jengu.bus import emit
from jengu.bus.envelope import Envelope
from jengu.events.models import Event
from jengu.redis_helpers import get_redis
from tests.brokers import both_brokers, drain
from tests.waiting import wait_for
from tests.worker_processes import worker_processes

from .actors import EFFECTS_TABLE

pytestmark = both_brokers


def test_the_same_message_delivered_many_times_concurrently_runs_once(
    broker, worker, key, settings
) -> None:
    settings.EVENT_CLAIM_TTL_SECONDS = 1
    # Given one event whose message is delivered six times at once (redeliveries)
    envelope = Envelope.new("TestSlow", parent=None, source="test")
    message = Message(
        queue_name="track",
        actor_name="TestSlow",
        args=(),
        kwargs={"key": key},
        options={"envelope": envelope.as_dict()},
        message_id=str(envelope.event_id),
    )
    for _ in range(6):
        broker.enqueue(message)
    # When four worker threads have worked through them all
    drain(broker, worker)
    # Then the actor ran once, and a late redelivery is dropped as well
    assert int(get_redis().get(key)) == 1
    broker.enqueue(message)
    drain(broker, worker)
    assert int(get_redis().get(key)) == 1
    assert Event.objects.get(event_id=envelope.event_id).status == "succeeded"


@pytest.fixture
def effects_table(transactional_db: None) -> Iterator[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {EFFECTS_TABLE} (event_id uuid PRIMARY KEY)")
    yield EFFECTS_TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {EFFECTS_TABLE}")


@pytest.fixture
def worker_process(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts `dramatiq` worker processes for the test actors; kills leftovers."""
    with worker_processes(
        log_dir=tmp_path, modules=["tests.jengu.actors"], queues=["track"], threads=2, env={}
    ) as start:
        yield start


@pytest.mark.slow
def test_a_message_of_a_sigkilled_worker_is_processed_once_by_the_next_worker(
    broker, effects_table, worker_process, key
) -> None:
    client = get_redis()
    # Given a worker process in the middle of an event
    envelope = emit("TestKillable", {"key": key})
    first = worker_process()
    wait_for(lambda: client.get(f"{key}:runs") == "1", 60, "the first worker to start the event")
    # When the whole worker is SIGKILLed and a new one starts
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    client.set(f"{key}:release", 1)
    worker_process()
    # Then the new worker processes the event, and its side effect happened once
    wait_for(
        lambda: Event.objects.filter(event_id=envelope.event_id, status="succeeded").exists(),
        60,
        "the second worker to finish the event",
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {EFFECTS_TABLE}")  # noqa: S608
        assert cursor.fetchone()[0] == 1
    assert client.get(f"{key}:runs") == "2"
    assert client.get(f"{key}:effects") == "1"
