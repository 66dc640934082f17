"""Enrichment benchmarks, 1 worker x 8 threads, loopback sites in the same process.

1. Throughput: 1,000 prospects with only a name, a contact and a city: each website
   is found by guessing (injected DNS), three pages are read, and the three best
   addresses are validated (local checks; no MillionVerifier key).
2. Accuracy on the real-web fixture set (tests/fakes/realweb.py): compressed and
   mislabelled pages, contact pages where real sites keep them, hidden addresses,
   third parties' addresses, a namesake, broken markup, a bomb and a dripping server,
   with the SSRF guard on. The share of sites whose own address is chosen, the
   number of wrong addresses taken (the target is none), and the throughput.

The fixture servers run in the same process as the worker, so both share one GIL.
"""

import time

import dramatiq
import pytest

from crm.models import Prospect, Stage
from crm.services import prospects_enqueue_enrichment
from enrichment.demo_site import HotelSite
from jengu.events.models import Event
from tests.benchmarks.report import percentile, print_table
from tests.fakes.realweb import REAL_WEB, RealWebServer
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
    start = time.perf_counter()
    enriched_at, done_at = run_pipeline(Prospect.objects.only("id", "stage"))

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


@pytest.fixture
def real_web():
    server = RealWebServer().start()
    yield server
    server.stop()


def run_pipeline(prospects) -> tuple[float, float]:
    """Enrich and validate `prospects` on a real worker: when enrichment, then all, ended."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(
        broker, queues={"enrich", "validate"}, worker_timeout=100, worker_threads=THREADS
    )
    worker.start()
    try:
        prospects_enqueue_enrichment(prospects=prospects)
        broker.join("enrich", timeout=600_000)
        enriched_at = time.perf_counter()
        broker.join("validate", timeout=600_000)
        worker.join()
        return enriched_at, time.perf_counter()
    finally:
        worker.stop()
        broker.flush_all()


@pytest.mark.django_db(transaction=True)
def test_right_address_on_real_web_sites(real_web, settings):
    settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = False
    settings.ENRICHMENT_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.ENRICHMENT_PAGE_TIMEOUT = 2.0  # the dripping server costs one page timeout
    settings.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{real_web.port}/"]
    settings.ENRICHMENT_DNS_RESOLVER = real_web.resolver()
    settings.MILLIONVERIFIER_API_KEY = ""
    settings.SEARCH_API_KEY = ""
    prospects = {
        fixture.case: Prospect.objects.create(
            **fixture.prospect_fields, website=real_web.website(fixture), source="bench"
        )
        for fixture in REAL_WEB
    }
    start = time.perf_counter()
    seconds = run_pipeline(list(prospects.values()))[1] - start

    right, wrong, missed = [], [], []
    for fixture in REAL_WEB:
        prospect = prospects[fixture.case]
        prospect.refresh_from_db()
        if prospect.email == fixture.expected:
            right.append(fixture.case)
        elif prospect.email:
            wrong.append(f"{fixture.case}: took {prospect.email}")
        else:
            missed.append(fixture.case)
    durations = list(
        Event.objects.filter(type="EnrichProspect", status=Event.Status.SUCCEEDED).values_list(
            "duration_ms", flat=True
        )
    )
    sites = len(REAL_WEB)
    print_table(
        f"Enrichment accuracy: {sites} real-web fixture sites, 1 worker x {THREADS} threads",
        ["figure", "value"],
        [
            ["right address chosen (or rightly none)", f"{len(right)}/{sites} "
             f"({len(right) / sites:.0%})"],
            ["wrong address taken", str(len(wrong))],
            ["no address where one was expected", str(len(missed))],
            ["prospects/min (enrich + validate)", f"{sites / seconds * 60:.0f}"],
            ["p50 / p95 ms per enrichment", f"{percentile(durations, 50):.0f} / "
             f"{percentile(durations, 95):.0f}"],
        ],
    )  # fmt: skip
    for line in wrong + [f"missed: {case}" for case in missed]:
        print(f"  {line}")
    assert wrong == []
    assert Prospect.objects.filter(stage=Stage.ENRICHING).count() == 0
