"""What differs between the brokers stays inside jengu.bus.brokers: delays, queue depths,
and RabbitMQ's traps (long delays past the consumer timeout, deleted queues)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import dramatiq
import pika
import pytest
from django.core.exceptions import ImproperlyConfigured
from dramatiq import Message

from jengu.bus import QUEUES, emit
from jengu.bus.brokers import NOT_BEFORE, BrokerUnavailable, queue_depths
from jengu.redis_helpers import get_redis
from jengu.settings.base import broker_settings
from tests.brokers import both_brokers, build_broker, drain, installed

rabbitmq_only = pytest.mark.parametrize("broker", ["rabbitmq"], indirect=True)
FAST = {"min_backoff": 40, "max_backoff": 200}


def runs(key: str) -> list[float]:
    """When each run of `TestFlaky` for `key` started (epoch seconds)."""
    return [float(t) for t in get_redis().lrange(f"{key}:at", 0, -1)]


def assert_ran_once_after(key: str, emitted_at: float, seconds: float) -> None:
    started = runs(key)
    assert len(started) == 1
    assert started[0] - emitted_at >= seconds


@both_brokers
def test_a_delayed_event_runs_once_and_not_before_its_delay(broker, worker, key) -> None:
    emitted_at = time.time()
    emit("TestFlaky", {"key": key, "fail_times": 0}, delay_ms=500)
    drain(broker, worker)
    assert_ran_once_after(key, emitted_at, 0.5)


@rabbitmq_only
def test_rabbitmq_never_holds_a_delay_longer_than_its_cap(broker, settings) -> None:
    # Given a cap of 200 ms, a message delayed by ten minutes
    broker.max_delay_ms = 200
    message = Message(queue_name="track", actor_name="TestRecord", args=(), kwargs={}, options={})
    sent_at = int(time.time() * 1000)
    broker.enqueue(message, delay=600_000)
    # Then the delay queue holds it with an eta within the cap, its due time in the options
    held = peek(settings.BROKER_URL, "track.DQ")
    assert sent_at <= held["options"]["eta"] <= sent_at + 200 + 1000
    assert held["options"][NOT_BEFORE] >= sent_at + 600_000


@rabbitmq_only
def test_a_delay_longer_than_the_cap_hops_and_runs_once_on_time(broker, worker, key) -> None:
    broker.max_delay_ms = 150
    emitted_at = time.time()
    emit("TestFlaky", {"key": key, "fail_times": 0}, delay_ms=800)
    drain(broker, worker)
    assert_ran_once_after(key, emitted_at, 0.8)


@rabbitmq_only
def test_a_message_for_a_queue_deleted_behind_our_back_is_not_lost(
    broker, key, settings, transactional_db
) -> None:
    # Given the queue existed and was then deleted on the server (an operator, a policy)
    emit("TestFlaky", {"key": key, "fail_times": 0})
    with amqp_channel(settings.BROKER_URL) as channel:
        channel.queue_delete("track")
    # When an event is published to it
    emit("TestFlaky", {"key": key, "fail_times": 0})
    # Then the queue was declared again and the message waits there for a worker
    assert queue_depths(["track"])[0].ready == 1
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=2)
    worker.start()
    try:
        drain(broker, worker)
    finally:
        worker.stop()
    assert len(runs(key)) == 1


@both_brokers
def test_queue_depths_count_ready_delayed_and_dead_in_either_broker(
    broker, key, client, admin_client, settings, transactional_db
) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    # Given one event failed for good (the broker keeps it in its dead-letter queue)
    worker = dramatiq.Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    emit("TestFlaky", {"key": key, "fail_times": 9, "kind": "permanent"})
    drain(broker, worker)
    worker.stop()
    # ...and, with no worker running, two events wait and one is delayed
    emit("TestRecord", {"key": key})
    emit("TestRecord", {"key": key})
    emit("TestRecord", {"key": key}, delay_ms=60_000)

    (track,) = queue_depths(["track"])

    assert (track.ready, track.delayed, track.dead) == (2, 1, 1)
    if settings.BROKER_URL.startswith("redis"):
        assert track.oldest_age_seconds is not None and track.oldest_age_seconds < 60
    else:  # RabbitMQ cannot show a queue's head without delivering it
        assert track.oldest_age_seconds is None
    metrics = client.get("/metrics").content.decode()
    assert 'jengu_queue_depth{queue="track"} 2.0' in metrics
    assert 'jengu_queue_delayed{queue="track"} 1.0' in metrics
    assert 'jengu_queue_broker_dead{queue="track"} 1.0' in metrics
    queues = client.get("/health").json()["components"]["queues"]
    kind = "redis" if settings.BROKER_URL.startswith("redis") else "rabbitmq"
    assert queues["broker"] == kind
    assert (queues["queues"]["track"]["depth"], queues["queues"]["track"]["delayed"]) == (2, 1)
    page = admin_client.get("/system/").content.decode()
    assert f'<span class="sub">{kind}</span>' in page
    row = '<td>track</td><td class="num">2</td><td class="num">1</td><td class="num">1</td>'
    assert row in page


@pytest.mark.django_db
def test_an_unreachable_rabbitmq_makes_health_unhealthy_fast(client, settings) -> None:
    settings.BROKER_URL = "amqp://guest:guest@127.0.0.1:1/%2F"
    with pytest.raises(BrokerUnavailable):
        queue_depths(["track"])

    started = time.monotonic()
    response = client.get("/health")

    assert response.status_code == 503
    queues = response.json()["components"]["queues"]
    assert queues["status"] == "unhealthy" and "RabbitMQ unreachable" in queues["error"]
    # Not a benchmark: a load balancer's probe must not hang on a dead broker.
    assert time.monotonic() - started < 5


def test_an_unknown_broker_scheme_or_queue_type_is_refused_with_the_variable_named(
    monkeypatch,
) -> None:
    with pytest.raises(ImproperlyConfigured, match="BROKER_URL must start with"):
        broker_settings("kafka://127.0.0.1:9092")
    monkeypatch.setenv("BROKER_QUEUE_TYPE", "stream")
    with pytest.raises(ImproperlyConfigured, match="BROKER_QUEUE_TYPE must be classic or quorum"):
        broker_settings("amqp://guest:guest@127.0.0.1:5672/%2F")


@pytest.fixture
def quorum_broker(rabbitmq_url, settings, monkeypatch) -> Iterator[dramatiq.Broker]:
    """A RabbitMQ broker with quorum queues, in a vhost cleared of classic ones before and
    after (RabbitMQ refuses to declare a queue again with another type)."""
    settings.BROKER_URL = rabbitmq_url
    monkeypatch.setenv("BROKER_QUEUE_TYPE", "quorum")
    delete_queues(rabbitmq_url)
    with installed(build_broker(rabbitmq_url)) as broker:
        yield broker
    delete_queues(rabbitmq_url)


def delete_queues(url: str) -> None:
    with amqp_channel(url) as channel:
        for queue in dramatiq.get_broker().get_declared_queues() | set(QUEUES):
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(name)


def test_quorum_queues_retry_delay_and_dead_letter_like_classic_ones(
    quorum_broker, key, settings, transactional_db
) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    worker = dramatiq.Worker(quorum_broker, worker_timeout=100, worker_threads=2)
    worker.start()
    try:
        emit("TestFlaky", {"key": key, "fail_times": 1}, options=FAST)
        emit("TestFlaky", {"key": f"{key}:late", "fail_times": 0}, delay_ms=300)
        emit("TestFlaky", {"key": f"{key}:bad", "fail_times": 9, "kind": "permanent"})
        drain(quorum_broker, worker)
    finally:
        worker.stop()
    assert (len(runs(key)), len(runs(f"{key}:late")), len(runs(f"{key}:bad"))) == (2, 1, 1)
    assert queue_depths(["track"])[0].dead == 1
    # The queue really is a quorum queue: declaring it as a classic one is refused.
    with (
        amqp_channel(settings.BROKER_URL) as channel,
        pytest.raises(pika.exceptions.ChannelClosedByBroker, match="x-queue-type"),
    ):
        classic = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "track.XQ"}
        channel.queue_declare("track", durable=True, arguments=classic)


class amqp_channel:  # noqa: N801 - used like a function
    """A channel on a connection of its own, closed on exit."""

    def __init__(self, url: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(url))

    def __enter__(self) -> pika.adapters.blocking_connection.BlockingChannel:
        return self.connection.channel()

    def __exit__(self, *exc_info: object) -> None:
        self.connection.close()


def peek(url: str, queue: str) -> dict:
    """The message at the head of `queue`, put back where it was."""
    with amqp_channel(url) as channel:
        method, _, body = channel.basic_get(queue)
        assert method is not None, f"{queue} is empty"
        channel.basic_nack(method.delivery_tag, requeue=True)
    return json.loads(body)
