"""Regions on /metrics, /health and the System page: queue depth per queue and region,
workers and heartbeats per region, and a down region's queues with their fallback."""

from __future__ import annotations

import dramatiq
import pytest

from jengu.bus import emit
from jengu.failover import regions_failover
from jengu.metrics import metrics_flush
from jengu.regions import worker_queues
from tests.jengu import actors  # noqa: F401 - declares TestDownstream (queue send)
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("two_regions")]


@pytest.fixture
def us_worker(two_regions, broker):
    """A real worker of region us-east (it beats); eu-west has none."""
    worker = dramatiq.Worker(broker, queues=worker_queues(["us-east"]), worker_timeout=100)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def eu_down(two_regions, broker, request):
    """Two events queued for eu-west before any worker ran, then us-east's worker starts
    and the regions' check finds eu-west down."""
    for n in range(2):
        emit("TestDownstream", {"key": f"region-test-{n}"}, region="eu-west")
    request.getfixturevalue("us_worker")
    wait_for(lambda: regions_failover() != [], 10, "eu-west to be found down")


@pytest.mark.usefixtures("eu_down")
def test_metrics_give_depth_per_queue_and_region_and_workers_per_region(client):
    metrics_flush()  # the worker in this process sums counters in memory for a second
    body = client.get("/metrics").content.decode()

    # The originals stay on eu-west's queue (their copies went to us-east).
    assert 'jengu_queue_depth{queue="send-eu-west",region="eu-west"} 2.0' in body
    assert 'jengu_queue_delayed{queue="send-eu-west",region="eu-west"} 0.0' in body
    assert 'jengu_queue_depth{queue="compose-us-east",region="us-east"} 0.0' in body
    assert 'jengu_queue_depth{queue="reply",region=""} 0.0' in body
    assert 'jengu_region_workers_alive{region="us-east"} 1.0' in body
    assert 'jengu_region_workers_alive{region="eu-west"} 0.0' in body
    assert 'jengu_region_last_heartbeat_seconds{region="us-east"}' in body
    assert (
        'jengu_region_queue_down{fallback="send-us-east",queue="send-eu-west",region="eu-west"} 1.0'
        in body
    )
    assert (
        'jengu_region_events_handed_over_total{queue="send-eu-west",to="send-us-east"} 2.0' in body
    )


@pytest.mark.usefixtures("eu_down")
def test_health_is_degraded_while_a_region_is_down(client):
    body = client.get("/health").json()

    regions = body["components"]["regions"]
    assert body["status"] == "degraded"
    assert regions["status"] == "degraded"
    assert regions["down"]["send-eu-west"]["fallback"] == "send-us-east"
    assert body["components"]["queues"]["queues"]["send-eu-west"]["depth"] == 2


@pytest.mark.usefixtures("eu_down")
def test_the_system_page_shows_each_region_its_workers_queues_and_fallback(admin_client):
    page = admin_client.get("/system/").content.decode()

    assert 'id="region-table"' in page
    assert 'data-region="us-east"' in page and 'data-region="eu-west"' in page
    assert "send-eu-west → send-us-east" in page
    assert "Europe/Dublin" in page


def test_without_regions_the_queue_gauges_keep_their_labels(client, settings):
    settings.JENGU_REGIONS = ()

    body = client.get("/metrics").content.decode()

    assert 'jengu_queue_depth{queue="send"} 0.0' in body
    assert "jengu_region_workers_alive" not in body
    assert "regions" not in client.get("/health").json()["components"]
