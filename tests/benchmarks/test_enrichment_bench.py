"""Enrichment of 1,000 prospects against loopback fixture sites, 1 worker x 8 threads.

Each prospect has only a name, a contact and a city: its website is found by
guessing (injected DNS), three pages are read, and its three best addresses are
validated (local checks; no MillionVerifier key) before it becomes ready. The
fixture server runs in the same process as the worker, so both share one GIL.
"""

import time

import dramatiq
import pytest

from crm.models import Prospect, Stage
from enrichment.demo_site import HotelSite
from enrichment.services import prospects_enqueue_enrichment
from jengu.events.models import Event
from tests.benchmarks.report import percentile, print_table
from tests.fakes.sites import FixtureSites

PROSPECTS = 1_000
THREADS = 8


@pytest.fixture
def hotel_sites():
    sites = [
        HotelSite(
            f"Hotel Alfa {i}",
            "Lisbon",
            f"alfa{i}.pt",
            [f"maria{i}@alfa{i}.pt", f"reservas@alfa{i}.pt", f"info@alfa{i}.pt"],
            "Maria Silva",
        )  # fmt: skip
        for i in range(PROSPECTS)
    ]
    server = FixtureSites(sites).start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_enrich_1000_prospects(hotel_sites, settings):
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True
    settings.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{hotel_sites.port}/"]
    settings.ENRICHMENT_DNS_RESOLVER = hotel_sites.resolver()
    settings.MILLIONVERIFIER_API_KEY = ""
    settings.SEARCH_API_KEY = ""
    Prospect.objects.bulk_create(
        Prospect(
            business_name=f"Hotel Alfa {i}",
            contact_name="Maria Silva",
            city="Lisbon",
            country="PT",
            source="bench",
        )  # fmt: skip
        for i in range(PROSPECTS)
    )
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(
        broker, queues={"enrich", "validate"}, worker_timeout=100, worker_threads=THREADS
    )
    worker.start()
    try:
        start = time.perf_counter()
        prospects_enqueue_enrichment(prospects=Prospect.objects.only("id", "stage"))
        broker.join("enrich", timeout=600_000)
        enriched_at = time.perf_counter()
        broker.join("validate", timeout=600_000)
        worker.join()
        done_at = time.perf_counter()
    finally:
        worker.stop()
        broker.flush_all()

    ready = Prospect.objects.filter(stage=Stage.READY).count()
    assert ready == PROSPECTS
    durations = list(
        Event.objects.filter(type="EnrichProspect", status=Event.Status.SUCCEEDED).values_list(
            "duration_ms", flat=True
        )
    )
    validations = list(
        Event.objects.filter(type="ValidateEmail", status=Event.Status.SUCCEEDED).values_list(
            "duration_ms", flat=True
        )
    )
    print_table(
        f"Enrichment pipeline: {PROSPECTS} prospects, 1 worker x {THREADS} threads, loopback sites",
        ["stage", "prospects/min", "p50 ms/prospect", "p95 ms/prospect", "events"],
        [
            ["enrich (find website, read 3 pages, rank)",
             f"{PROSPECTS / (enriched_at - start) * 60:.0f}",
             f"{percentile(durations, 50):.0f}", f"{percentile(durations, 95):.0f}",
             str(len(durations))],
            ["validate (3 addresses each, local checks)", "",
             f"{percentile(validations, 50):.0f}", f"{percentile(validations, 95):.0f}",
             str(len(validations))],
            ["end to end: new -> ready", f"{PROSPECTS / (done_at - start) * 60:.0f}", "", "",
             str(ready)],
        ],
    )  # fmt: skip
