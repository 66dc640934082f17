"""The two monitoring endpoints: `GET /health` and `GET /metrics`.

They sit above what they report on: `jengu.health`'s checks, `jengu.metrics`'
counters and `jengu.alerts`. Keeping the views here lets those three import each
other one way only (alerts and health record through metrics; nothing imports back).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from jengu import health
from jengu.alerts import alert
from jengu.metrics import RedisCollector


def health_view(request: HttpRequest) -> JsonResponse:
    report = health.health_report()
    if report["status"] == health.UNHEALTHY:
        alert("health_unhealthy", "Jengu health is unhealthy", **_failing(report))
    return JsonResponse(report, status=503 if report["status"] == health.UNHEALTHY else 200)


def _failing(report: dict) -> dict:
    return {
        name: c.get("error", c["status"])
        for name, c in report["components"].items()
        if c["status"] != health.HEALTHY
    }


class LiveGauges(Collector):
    """Queues, workers, breakers, dead letters and replicas as they are at scrape time."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        queues, beats = health.queue_stats(), health.workers_alive()
        yield from _queue_gauges(queues)
        workers = GaugeMetricFamily(
            "jengu_workers_alive", "Worker processes with a fresh heartbeat"
        )
        workers.add_metric([], len(beats))
        yield workers
        if settings.JENGU_REGIONS:
            yield from _region_gauges(health.region_stats(queues, beats))
        breakers = GaugeMetricFamily(
            "jengu_breaker_open",
            "1 when a circuit breaker is open or half-open",
            labels=["breaker"],
        )
        for breaker in health.breaker_states():
            breakers.add_metric([breaker.name], 0 if breaker.state == "closed" else 1)
        yield breakers
        dead = GaugeMetricFamily("jengu_dead_letters_pending", "Dead letters awaiting review")
        dead.add_metric([], health.dead_letters_pending())
        yield dead
        if settings.DATABASE_REPLICAS:
            yield from _replica_gauges(health.replica_monitor.states())


def _queue_gauges(queues: list) -> Iterable[GaugeMetricFamily]:
    """Per queue, in either broker: ready, delayed, the broker's dead letters, and the
    oldest ready message's age where the broker can tell (Redis; 0 when empty).
    With regions on, `region` is the region of a regional queue (`send-eu-west`), empty
    for the shared ones."""
    labels = ["queue", "region"] if settings.JENGU_REGIONS else ["queue"]
    families = {
        "depth": GaugeMetricFamily("jengu_queue_depth", "Messages ready", labels=labels),
        "delayed": GaugeMetricFamily(
            "jengu_queue_delayed", "Messages in the delay queue", labels=labels
        ),
        "dead": GaugeMetricFamily(
            "jengu_queue_broker_dead", "Messages in the broker's dead-letter queue", labels=labels
        ),
    }
    age = GaugeMetricFamily(
        "jengu_queue_oldest_age_seconds", "Age of the oldest waiting message", labels=labels
    )
    for queue in queues:
        values = [queue.name, queue.region][: len(labels)]
        for attribute, family in families.items():
            family.add_metric(values, getattr(queue, attribute))
        if queue.oldest_age_seconds is not None or queue.depth == 0:
            age.add_metric(values, queue.oldest_age_seconds or 0.0)
    yield from families.values()
    yield age


def _region_gauges(regions: list) -> Iterable[GaugeMetricFamily]:
    """Per region: its beating workers, the age of its freshest beat, and each of its
    queues that is down (1) with the fallback taking its work."""
    workers = GaugeMetricFamily(
        "jengu_region_workers_alive",
        "Worker processes with a fresh heartbeat consuming a region's queues",
        labels=["region"],
    )
    beat = GaugeMetricFamily(
        "jengu_region_last_heartbeat_seconds",
        "Seconds since a region's freshest worker heartbeat",
        labels=["region"],
    )
    down = GaugeMetricFamily(
        "jengu_region_queue_down",
        "1 while a region's queue has no live worker and its work goes to the fallback",
        labels=["region", "queue", "fallback"],
    )
    for region in regions:
        workers.add_metric([region.name], region.workers)
        if region.last_beat_seconds_ago is not None:
            beat.add_metric([region.name], region.last_beat_seconds_ago)
        for entry in region.down:
            down.add_metric([region.name, entry.queue, entry.fallback], 1)
    yield workers
    yield beat
    yield down


def _replica_gauges(states: list) -> Iterable[GaugeMetricFamily]:
    healthy = GaugeMetricFamily(
        "jengu_replica_healthy", "1 while a read replica takes reads", labels=["replica"]
    )
    lag = GaugeMetricFamily(
        "jengu_replica_lag_seconds", "Seconds a replica is behind the primary", labels=["replica"]
    )
    for state in states:
        healthy.add_metric([state.alias], 1 if state.healthy else 0)
        if state.lag_seconds is not None:
            lag.add_metric([state.alias], state.lag_seconds)
    yield healthy
    yield lag


def metrics_view(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector())
    registry.register(LiveGauges())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
