"""Both brokers for the pipeline's contract tests, and waiting for either to drain.

A test marked `@both_brokers` runs once on Redis and once on RabbitMQ. The RabbitMQ
run gets a virtual host of its own (created with `rabbitmqctl`, deleted at the end of
the session), so parallel runs on one server never see each other's queues; set
`TEST_RABBITMQ_URL` to use a given, already isolated, vhost instead. Without a
RabbitMQ on 127.0.0.1:5672 (or `rabbitmq-ctl`) the RabbitMQ runs skip.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import dramatiq
import psutil
import pytest
from django.utils.module_loading import import_string
from django_dramatiq.utils import load_middleware
from dramatiq.brokers.redis import RedisBroker
from dramatiq.worker import _WorkerMiddleware

from jengu.bus.policies import QUEUES
from jengu.bus.registry import all_actors
from jengu.settings.base import broker_settings

BROKERS = ["redis", "rabbitmq"]
both_brokers = pytest.mark.parametrize("broker", BROKERS, indirect=True)

RABBITMQ_HOST, RABBITMQ_PORT = "127.0.0.1", 5672
VHOST_PREFIX = "jengu-test-"


@pytest.fixture(scope="session")
def rabbitmq_url() -> Iterator[str]:
    """An AMQP URL of a virtual host used by this test session only."""
    explicit = os.environ.get("TEST_RABBITMQ_URL")
    if explicit:
        yield explicit
        return
    # Debian installs it in /usr/sbin, which a CI user's PATH may lack.
    ctl = shutil.which("rabbitmqctl") or shutil.which("rabbitmqctl", path="/usr/sbin")
    if ctl is None or not _listening(RABBITMQ_HOST, RABBITMQ_PORT):
        pytest.skip(
            f"no RabbitMQ on {RABBITMQ_HOST}:{RABBITMQ_PORT} with rabbitmqctl "
            "(or set TEST_RABBITMQ_URL to an isolated vhost)"
        )
    _delete_stale_vhosts(ctl)
    vhost = f"{VHOST_PREFIX}{os.getpid()}"
    _rabbitmqctl(ctl, "add_vhost", vhost)
    try:
        _rabbitmqctl(ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{RABBITMQ_HOST}:{RABBITMQ_PORT}/{quote(vhost, safe='')}"
    finally:
        _rabbitmqctl(ctl, "delete_vhost", vhost)


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _rabbitmqctl(ctl: str, *args: str) -> str:
    result = subprocess.run([ctl, "-q", *args], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.skip(f"rabbitmqctl {args[0]} failed: {result.stderr.strip()[:200]}")
    return result.stdout


def _delete_stale_vhosts(ctl: str) -> None:
    """Vhosts of earlier sessions that were killed before they could clean up."""
    for name in _rabbitmqctl(ctl, "list_vhosts", "name").split():
        match = re.fullmatch(re.escape(VHOST_PREFIX) + r"(\d+)", name)
        if match and not psutil.pid_exists(int(match.group(1))):
            _rabbitmqctl(ctl, "delete_vhost", name)


@pytest.fixture(autouse=True)
def _forget_stopped_workers() -> Iterator[None]:
    """Take the middleware of workers started during a test off the broker after it.

    `dramatiq.Worker.stop()` leaves it there, and it starts consumers for every queue
    declared later (a later test importing an app's actors): threads of a stopped
    worker that poll the broker until the session ends.
    """
    broker = dramatiq.get_broker()
    before = list(broker.middleware)
    yield
    broker.middleware[:] = [
        m for m in broker.middleware if m in before or not isinstance(m, _WorkerMiddleware)
    ]


@pytest.fixture
def broker(request, settings) -> Iterator[dramatiq.Broker]:
    """The project's Redis broker, or (parametrized `rabbitmq`) a RabbitMQ broker built
    from the same settings and installed for every actor, flushed before and after."""
    if getattr(request, "param", "redis") == "redis":
        broker = dramatiq.get_broker()
        broker.flush_all()
        yield broker
        broker.flush_all()
        return
    url = request.getfixturevalue("rabbitmq_url")
    settings.BROKER_URL = url
    with installed(build_broker(url)) as broker:
        broker.flush_all()
        yield broker
        broker.flush_all()


def build_broker(url: str) -> dramatiq.Broker:
    """The broker `BROKER_URL=url` gives a process, built by the settings' own code."""
    config = broker_settings(url)
    middleware = [load_middleware(path) for path in config["MIDDLEWARE"]]
    return import_string(config["BROKER"])(middleware=middleware, **config["OPTIONS"])


@contextmanager
def installed(broker: dramatiq.Broker) -> Iterator[dramatiq.Broker]:
    """Make `broker` the global broker of every declared actor for a while."""
    previous = dramatiq.get_broker()
    # Import every tasks module now: an actor declared later would bind to `broker`.
    all_actors()
    actors = [previous.get_actor(name) for name in previous.get_declared_actors()]
    _bind(actors, broker)
    try:
        yield broker
    finally:
        _bind(actors, previous)
        broker.close()


def _bind(actors: list[dramatiq.Actor], broker: dramatiq.Broker) -> None:
    dramatiq.set_broker(broker)
    for actor in actors:
        actor.broker = broker
        broker.declare_actor(actor)


def waiting(broker: dramatiq.Broker, queues: list[str]) -> int:
    """Messages the broker still holds for `queues`: ready or delayed (Redis also
    counts those a worker took but has not acked yet)."""
    if isinstance(broker, RedisBroker):
        return sum(broker.do_qsize(queue) for queue in queues)
    return sum(sum(broker.get_queue_message_counts(queue)[:2]) for queue in queues)


def drain(
    broker: dramatiq.Broker,
    worker: dramatiq.Worker,
    timeout_ms: int = 30000,
    queues: list[str] | None = None,
) -> None:
    """Wait until the broker holds nothing for `queues` (default: all) and the worker has
    nothing left, a few times in a row (an actor may emit into another queue while we look).

    RabbitMQ does not count what it delivered and a worker has not acked: a message
    on its way from the server to the worker is in neither count, so on RabbitMQ the
    quiet must last longer than that trip.
    """
    if queues is None:
        queues = sorted(q for q in broker.get_declared_queues() | set(QUEUES) if "." not in q)
    deadline = time.monotonic() + timeout_ms / 1000
    needed = 2 if isinstance(broker, RedisBroker) else 6
    quiet_passes = 0
    while quiet_passes < needed:
        assert time.monotonic() < deadline, f"queues still busy after {timeout_ms} ms"
        busy = waiting(broker, queues) > 0
        worker.join()
        time.sleep(0.05)
        quiet_passes = 0 if busy else quiet_passes + 1
