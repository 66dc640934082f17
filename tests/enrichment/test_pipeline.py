"""EnrichProspect -> ValidateEmail through a real Dramatiq worker on the Redis broker."""

from collections.abc import Iterator
from dataclasses import dataclass

import dramatiq
import pytest
from django.db import transaction

from crm.models import EmailStatus, Stage
from crm.services import prospects_enqueue_enrichment
from jengu.bus import emit
from jengu.dns import StaticResolver
from jengu.events.models import DeadLetter, Event
from jengu.redis_helpers import reset_breaker
from tests.enrichment.conftest import aim_enrichment
from tests.factories import ProspectFactory
from tests.fakes.millionverifier import API_KEY, FakeMillionVerifier
from tests.fakes.realweb import REAL_WEB


@dataclass
class Pipeline:
    broker: dramatiq.Broker
    worker: dramatiq.Worker

    def wait(self) -> None:
        for _ in range(2):  # enrich emits validate: wait for both, twice
            self.broker.join("enrich", timeout=30000)
            self.broker.join("validate", timeout=30000)
            self.worker.join()

    def __call__(self, prospects) -> None:
        prospects_enqueue_enrichment(prospects=prospects)
        self.wait()

    def validate_with_fast_retries(self, prospect, email: str) -> None:
        with transaction.atomic():
            emit("ValidateEmail", {"prospect_id": prospect.pk, "email": email},
                 options={"min_backoff": 10, "max_backoff": 50})  # fmt: skip
        self.wait()


def running_pipeline(settings, port: int, resolver) -> Iterator[Pipeline]:
    aim_enrichment(settings, port=port, resolver=resolver)
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(
        broker, queues={"enrich", "validate"}, worker_timeout=100, worker_threads=4
    )
    worker.start()
    yield Pipeline(broker, worker)
    worker.stop()
    broker.flush_all()


@pytest.fixture
def pipeline(transactional_db, sites, loopback_allowed):
    yield from running_pipeline(loopback_allowed, sites.port, sites.resolver())


@pytest.fixture
def web_pipeline(transactional_db, real_web, guard_on):
    """Starts the pipeline against the real-web sites with a given resolver, once."""
    running: list[Iterator[Pipeline]] = []

    def start(resolver) -> Pipeline:
        running.append(running_pipeline(guard_on, real_web.port, resolver))
        return next(running[-1])

    yield start
    for generator in running:
        next(generator, None)  # stops the worker and flushes the broker


class ResolverWithABug(StaticResolver):
    """A resolver that fails on one name in a way nobody planned for (not a DnsError)."""

    def addresses(self, host: str) -> list[str]:
        if host == "sonne.ch":
            raise UnicodeError("label empty or too long")
        return super().addresses(host)


def test_new_prospects_become_ready_with_a_chosen_address(pipeline):
    hotel = ProspectFactory(business_name="Hotel Casa Azul", contact_name="Ana Costa", email="",
                            city="Lisbon", country="PT")  # fmt: skip
    nowhere = ProspectFactory(business_name="Pensão Nenhuma", email="", country="PT")
    contacted = ProspectFactory(stage=Stage.CONTACTED)

    pipeline([hotel, nowhere, contacted])

    hotel.refresh_from_db()
    assert (hotel.stage, hotel.email, hotel.email_status) == (
        Stage.READY,
        "ana.costa@casaazul.pt",
        EmailStatus.VALID,
    )
    nowhere.refresh_from_db()
    assert nowhere.stage == Stage.ENRICHED
    assert nowhere.enrichment["summary"].startswith("no website")
    contacted.refresh_from_db()
    assert contacted.stage == Stage.CONTACTED
    done = Event.objects.filter(status=Event.Status.SUCCEEDED)
    assert done.filter(type="EnrichProspect").count() == 2
    assert done.filter(type="ValidateEmail").count() == 3
    assert DeadLetter.objects.count() == 0


def test_a_deleted_prospect_is_a_no_op(pipeline):
    prospect = ProspectFactory(email="")
    prospect_id = prospect.pk
    prospect.delete()
    prospect.pk = prospect_id
    pipeline([prospect])
    assert DeadLetter.objects.count() == 0


@pytest.fixture
def mv(settings):
    reset_breaker("provider:millionverifier")
    fake = FakeMillionVerifier().start()
    settings.MILLIONVERIFIER_API_KEY = API_KEY
    settings.MILLIONVERIFIER_BASE_URL = fake.url
    yield fake
    fake.stop()
    reset_breaker("provider:millionverifier")


def test_a_verifier_blip_is_retried_not_settled_locally(pipeline, mv):
    prospect = ProspectFactory(email="", enrichment={"to_validate": ["ana@casaazul.pt"]},
                               stage=Stage.ENRICHED)  # fmt: skip
    mv.behave("error", times=1)
    pipeline.validate_with_fast_retries(prospect, "ana@casaazul.pt")
    prospect.refresh_from_db()
    verdict = prospect.enrichment["validation"]["ana@casaazul.pt"]
    assert (verdict["method"], verdict["status"]) == ("millionverifier", "valid")
    assert mv.calls == ["ana@casaazul.pt"] * 2
    assert prospect.stage == Stage.READY


def test_a_verifier_outage_ends_with_the_local_verdict_on_the_last_attempt(pipeline, mv):
    prospect = ProspectFactory(email="", enrichment={"to_validate": ["ana@casaazul.pt"]},
                               stage=Stage.ENRICHED)  # fmt: skip
    mv.behave("error")
    pipeline.validate_with_fast_retries(prospect, "ana@casaazul.pt")
    prospect.refresh_from_db()
    verdict = prospect.enrichment["validation"]["ana@casaazul.pt"]
    assert verdict["method"] == "local"
    assert verdict["checks"]["provider"] == "unavailable: circuit open"
    assert len(mv.calls) == 3  # then the breaker opened; the 4th attempt did not call
    assert prospect.stage == Stage.READY
    assert DeadLetter.objects.count() == 0


def sonne():
    fixture = next(f for f in REAL_WEB if f.case == "conditional comments")
    return ProspectFactory(**fixture.prospect_fields)


def test_a_page_that_breaks_python_s_html_parser_is_read_once_and_the_prospect_moves_on(
    web_pipeline, real_web
):
    pipeline = web_pipeline(real_web.resolver())
    prospect = sonne()  # its home page has <![ if !IE ]>, which html.parser cannot read
    pipeline([prospect])
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.email) == (Stage.READY, "info@sonne.ch")
    runs = Event.objects.filter(type="EnrichProspect", payload__prospect_id=prospect.pk)
    assert list(runs.values_list("status", flat=True)) == [Event.Status.SUCCEEDED]
    assert DeadLetter.objects.count() == 0


def test_an_unforeseen_error_on_the_web_ends_the_run_with_the_reason_recorded(
    web_pipeline, real_web
):
    tables = real_web.resolver()
    pipeline = web_pipeline(ResolverWithABug(addresses=tables.address_table, mx=tables.mx_table))
    prospect = sonne()
    pipeline([prospect])
    prospect.refresh_from_db()
    assert prospect.stage == Stage.ENRICHED  # never left in `enriching` for the sweeper
    attempts = prospect.enrichment["website_attempts"]
    assert attempts[-1] == {
        "url": "",
        "method": "error",
        "outcome": "failed: UnicodeError: label empty or too long",
    }
    assert prospect.enrichment["summary"].startswith("no website (failed: UnicodeError")
    assert prospect.enrichment["chosen"]["reason"] == "no address found"
    assert DeadLetter.objects.count() == 0
