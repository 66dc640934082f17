"""The two supported brokers, and what Jengu reads from inside them.

`BROKER_URL` picks Dramatiq's Redis broker (`redis://`, the default: the same Redis
as `REDIS_URL`) or its RabbitMQ broker (`amqp://`). Whatever looks inside the broker
— queue depth for `/metrics`, `/health` and the System page, the broker's own
dead-letter queues — goes through `queue_depths()`, which knows both layouts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pika
import pika.exceptions
import redis
from django.conf import settings
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL
from dramatiq.brokers.rabbitmq import RabbitmqBroker as DramatiqRabbitmqBroker
from dramatiq.common import current_millis, dq_name, xq_name

REDIS_NAMESPACE = "dramatiq"
#: Message option: the time (ms) before which a capped delay is not yet due.
NOT_BEFORE = "not_before"
# Observability reads must answer fast when the broker hangs (a health probe waits).
STATS_TIMEOUT_SECONDS = 1.0


class RabbitmqBroker(DramatiqRabbitmqBroker):
    """Dramatiq's RabbitMQ broker with the settings a cluster needs.

    - `confirm_delivery` is on: each publish waits for RabbitMQ's confirm and is
      `mandatory`, so a message for a queue deleted behind our back (an operator, a
      policy) raises; Dramatiq then declares the queue again and retries the publish
      instead of RabbitMQ dropping the message silently.
    - Delays are capped at `max_delay_ms`. A worker holds a delayed message unacked
      until it is due, and RabbitMQ closes a consumer whose delivery stays unacked
      past `consumer_timeout` (30 minutes by default), redelivering all it held. A
      longer delay (a send held for hours) hops through the delay queue in steps of
      at most the cap, its real due time travelling in the `not_before` option.
    - `queue_type="quorum"` declares quorum queues, replicated across a cluster's
      nodes (a classic queue lives on one node and is gone while that node is).
    """

    def __init__(
        self,
        *,
        max_delay_ms: int = 600_000,
        queue_type: str = "classic",
        confirm_delivery: bool = True,
        **kw: Any,
    ):
        super().__init__(confirm_delivery=confirm_delivery, **kw)
        self.max_delay_ms = max_delay_ms
        self.queue_type = queue_type

    def _build_queue_arguments(self, queue_name: str) -> dict[str, Any]:
        return {**super()._build_queue_arguments(queue_name), **self._type_argument()}

    def _declare_xq_queue(self, queue_name: str) -> Any:
        if self.queue_type == "classic":
            return super()._declare_xq_queue(queue_name)
        arguments = {"x-message-ttl": DEAD_MESSAGE_TTL, **self._type_argument()}
        return self.channel.queue_declare(xq_name(queue_name), durable=True, arguments=arguments)

    def _type_argument(self) -> dict[str, str]:
        return {"x-queue-type": "quorum"} if self.queue_type == "quorum" else {}

    def enqueue(self, message: Any, *, delay: int | None = None) -> Any:
        now = current_millis()
        due = message.options.get(NOT_BEFORE)
        if delay is None and due is not None and due > now:
            # A hop came due (a worker moves it to the queue): wait the rest.
            delay = due - now
        if delay is not None and delay > self.max_delay_ms:
            message = message.copy(options={NOT_BEFORE: now + delay})
            delay = self.max_delay_ms
        return super().enqueue(message, delay=delay)


@dataclass(frozen=True)
class QueueDepth:
    """Messages of one queue inside the broker.

    `ready`: waiting for a worker. `delayed`: in the delay queue (retries, scheduled
    nudges) — messages a worker already prefetched and holds until due are in
    flight, not counted. `dead`: the broker's own dead-letter queue (each also has a
    `DeadLetter` row). `oldest_age_seconds`: age of the next ready message where the
    broker can tell without taking it (Redis); None when unknown or empty.
    """

    name: str
    ready: int
    delayed: int
    dead: int
    oldest_age_seconds: float | None


class BrokerUnavailable(ConnectionError):
    """The broker did not answer (its own library's error is the cause)."""


def broker_kind(url: str | None = None) -> str:
    """`redis` or `rabbitmq`, from the scheme of `url` (default: `BROKER_URL`)."""
    scheme = (url or settings.BROKER_URL).partition("://")[0]
    return "rabbitmq" if scheme in ("amqp", "amqps") else "redis"


def queue_depths(names: Sequence[str]) -> list[QueueDepth]:
    """Depths of `names` in the configured broker (a few round trips in all)."""
    if broker_kind() == "rabbitmq":
        return _rabbitmq_depths(settings.BROKER_URL, names)
    return _redis_depths(_redis_client(settings.BROKER_URL), names)


@cache
def _redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=STATS_TIMEOUT_SECONDS, socket_connect_timeout=STATS_TIMEOUT_SECONDS
    )


def _redis_depths(client: redis.Redis, names: Sequence[str]) -> list[QueueDepth]:
    pipe = client.pipeline(transaction=False)
    for name in names:
        key = f"{REDIS_NAMESPACE}:{name}"
        pipe.llen(key)
        pipe.llen(f"{key}.DQ")
        pipe.zcard(f"{key}.XQ")
        pipe.lindex(key, 0)
    raw = pipe.execute()
    rows = [raw[i : i + 4] for i in range(0, len(raw), 4)]
    pipe = client.pipeline(transaction=False)
    for name, (*_, head) in zip(names, rows, strict=True):
        pipe.hget(f"{REDIS_NAMESPACE}:{name}.msgs", head or b"-")
    heads = pipe.execute()
    now_ms = time.time() * 1000
    return [
        QueueDepth(name, ready, delayed, dead, _message_age(head, now_ms))
        for name, (ready, delayed, dead, _), head in zip(names, rows, heads, strict=True)
    ]


def _message_age(encoded: bytes | None, now_ms: float) -> float | None:
    if not encoded:
        return None
    try:
        return max(0.0, (now_ms - json.loads(encoded)["message_timestamp"]) / 1000)
    except (ValueError, KeyError, TypeError):
        return None


def _rabbitmq_depths(url: str, names: Sequence[str]) -> list[QueueDepth]:
    """Passive declares on a short-lived connection: counts without touching messages.

    RabbitMQ cannot show a queue's head without delivering it, so the age is unknown.
    """
    parameters = pika.URLParameters(url)
    parameters.socket_timeout = parameters.stack_timeout = STATS_TIMEOUT_SECONDS
    parameters.blocked_connection_timeout = STATS_TIMEOUT_SECONDS
    parameters.connection_attempts = 1
    try:
        connection = pika.BlockingConnection(parameters)
    except pika.exceptions.AMQPError as exc:
        raise BrokerUnavailable(f"RabbitMQ unreachable: {exc!r}") from exc
    try:
        counter = _PassiveCounter(connection)
        return [
            QueueDepth(name, counter(name), counter(dq_name(name)), counter(xq_name(name)), None)
            for name in names
        ]
    except pika.exceptions.AMQPError as exc:
        raise BrokerUnavailable(f"RabbitMQ failed: {exc!r}") from exc
    finally:
        if connection.is_open:
            connection.close()


class _PassiveCounter:
    """Ready messages of a queue; 0 for a queue not declared yet (a 404 closes the
    channel it happened on, so the next count opens another)."""

    def __init__(self, connection: pika.BlockingConnection) -> None:
        self.connection = connection
        self.channel = connection.channel()

    def __call__(self, queue: str) -> int:
        if not self.channel.is_open:
            self.channel = self.connection.channel()
        try:
            return self.channel.queue_declare(queue, passive=True).method.message_count
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                return 0
            raise
