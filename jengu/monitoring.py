"""The two monitoring endpoints: `GET /health` and `GET /metrics`.

They sit above what they report on: `jengu.health`'s checks, `jengu.metrics`'
counters and `jengu.alerts`. Keeping the views here lets those three import each
other one way only (alerts and health record through metrics; nothing imports back).
"""

from __future__ import annotations

from collections.abc import Iterable

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
    """Queues, workers, breakers and dead letters as they are at scrape time."""

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily("jengu_queue_depth", "Messages waiting", labels=["queue"])
        age = GaugeMetricFamily(
            "jengu_queue_oldest_age_seconds", "Age of the oldest waiting message", labels=["queue"]
        )
        for queue in health.queue_stats():
            depth.add_metric([queue.name], queue.depth)
            age.add_metric([queue.name], queue.oldest_age_seconds or 0.0)
        yield depth
        yield age
        workers = GaugeMetricFamily(
            "jengu_workers_alive", "Worker processes with a fresh heartbeat"
        )
        workers.add_metric([], len(health.workers_alive()))
        yield workers
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


def metrics_view(request: HttpRequest) -> HttpResponse:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector())
    registry.register(LiveGauges())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
