"""Dramatiq middleware for workers: URLconf preloading, heartbeats and per-event counters.

Added to `DRAMATIQ_BROKER["MIDDLEWARE"]`; each runs inside worker processes only.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time

import dramatiq
import redis
from django.conf import settings
from django.urls import get_resolver
from dramatiq.middleware import Middleware

from jengu.bus.in_flight import InFlight
from jengu.heartbeats import WORKERS_KEY
from jengu.metrics import (
    count,
    metrics_buffer_start,
    metrics_buffer_stop,
    metrics_flush,
    observe,
    redis_client,
)
from jengu.region_config import queue_region


class UrlconfPreload(Middleware):
    """Loads the URLconf when a worker boots rather than in its first send.

    A send builds its unsubscribe link with `reverse()`, and the first `reverse()`
    imports every URL module (the API's schemas among them): about 0.4 s of CPU
    that would otherwise hold up the worker's first e-mail, under a prospect lock.
    """

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        get_resolver().reverse_dict  # noqa: B018 - the property imports and indexes the URLconf


class WorkerHeartbeat(Middleware):
    """Writes `host:pid` into a Redis hash every few seconds while a worker runs,
    with the queues it consumes and the regions they belong to.

    `/health` and the System page count workers whose beat is fresh. Dramatiq's
    own heartbeat set also lists processes that only enqueue (the web), so it
    cannot tell workers apart. A daemon thread started at worker boot, like
    Dramatiq's Prometheus middleware does, keeps beating while actors are busy.
    """

    def __init__(self) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        # A fresh event per boot: the middleware outlives a stopped worker (tests,
        # embedded workers), and a set event would end the next worker's beat at once.
        self._stop = threading.Event()
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        thread = threading.Thread(target=self._beat, args=(queues,), daemon=True)
        thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()
        # If Redis is down the entry goes stale and stops counting by itself.
        with contextlib.suppress(redis.RedisError):
            redis_client().hdel(WORKERS_KEY, self.worker_id)

    def _beat(self, queues: list[str]) -> None:
        host, pid = socket.gethostname(), os.getpid()
        regions = sorted({region for region in map(queue_region, queues) if region})
        while not self._stop.is_set():
            beat = {
                "ts": time.time(),
                "host": host,
                "pid": pid,
                "queues": queues,
                "regions": regions,
            }
            # Redis down: /health already reports it; keep trying.
            with contextlib.suppress(redis.RedisError):
                redis_client().hset(WORKERS_KEY, self.worker_id, json.dumps(beat))
            self._stop.wait(settings.WORKER_HEARTBEAT_SECONDS)


class EventMetrics(Middleware):
    """Counts every processed message by queue, actor and outcome, and times it.

    While a worker runs, the process's metrics are summed in memory
    (`MetricsBuffer`, written every `METRICS_FLUSH_SECONDS`) and written as soon
    as the worker has nothing left to do, so the numbers are current once the
    work is done. The buffer closes after the worker threads have stopped, so
    the last messages' numbers are in its final write.
    """

    def __init__(self) -> None:
        self._in_flight = InFlight()

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._in_flight.add_worker(worker)
        metrics_buffer_start(settings.METRICS_FLUSH_SECONDS)

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._in_flight.remove_worker(worker)
        metrics_buffer_stop()

    def before_process_message(self, broker: dramatiq.Broker, message) -> None:
        self._in_flight.begin(message)

    def after_process_message(
        self, broker: dramatiq.Broker, message, *, result=None, exception=None
    ) -> None:
        # `failed` only once retries are over (this sits before EventRetries to see it).
        outcome = "ok" if exception is None else "failed" if message.failed else "retried"
        labels = {"queue": message.queue_name, "type": message.actor_name}
        count("events_processed", outcome=outcome, **labels)
        started = self._in_flight.end(message)
        if started is not None:
            observe("event_seconds", time.monotonic() - started, **labels)
        self._flush_if_idle()

    def after_skip_message(self, broker: dramatiq.Broker, message) -> None:
        self._in_flight.end(message)
        count(
            "events_processed", outcome="skipped", queue=message.queue_name, type=message.actor_name
        )
        self._flush_if_idle()

    def _flush_if_idle(self) -> None:
        if self._in_flight.idle():
            metrics_flush()
