"""EnrichProspect -> ValidateEmail through a real Dramatiq worker on the Redis broker."""

from dataclasses import dataclass

import dramatiq
import pytest
from django.db import transaction

from crm.models import EmailStatus, Stage
from enrichment.services import prospects_enqueue_enrichment
from jengu.bus import emit
from jengu.events.models import DeadLetter, Event
from jengu.redis_helpers import reset_breaker
from tests.factories import ProspectFactory
from tests.fakes.millionverifier import API_KEY, FakeMillionVerifier


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


@pytest.fixture
def pipeline(transactional_db, sites, loopback_allowed):
    loopback_allowed.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{sites.port}/"]
    loopback_allowed.ENRICHMENT_DNS_RESOLVER = sites.resolver()
    loopback_allowed.MILLIONVERIFIER_API_KEY = ""
    loopback_allowed.SEARCH_API_KEY = ""
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(
        broker, queues={"enrich", "validate"}, worker_timeout=100, worker_threads=4
    )
    worker.start()
    yield Pipeline(broker, worker)
    worker.stop()
    broker.flush_all()


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
