"""A processed event id is never processed twice: concurrent duplicate deliveries,
and a worker process killed in the middle of a message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from dramatiq import Message

from jengu.bus import emit
from jengu.bus.envelope import Envelope
from jengu.events.models import Event
from jengu.redis_helpers import get_redis

from .actors import EFFECTS_TABLE
from .conftest import drain

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


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


def _test_database_url() -> str:
    # The suite's URL (machine server or embedded) pointed at pytest-django's test DB.
    parts = urlsplit(os.environ["DATABASE_URL"])
    return parts._replace(path="/" + connection.settings_dict["NAME"]).geturl()


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
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "jengu.settings.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # Requeue a silent worker's messages after 1 s, checked on every command,
        # and let a dead worker's event claims lapse within 1 s.
        "DRAMATIQ_HEARTBEAT_TIMEOUT_MS": "1000",
        "DRAMATIQ_MAINTENANCE_CHANCE": "1000000",
        "EVENT_CLAIM_TTL_SECONDS": "1",
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "django_dramatiq.setup", "tests.jengu.actors"]
            + ["--processes", "1", "--threads", "2", "--queues", "track"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    # No graceful shutdown needed: the broker fixture flushes what they leave.
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


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
