"""EnrichProspect -> ValidateEmail through a real Dramatiq worker on the Redis broker."""

import dramatiq
import pytest

from crm.models import EmailStatus, Stage
from enrichment.services import prospects_enqueue_enrichment
from jengu.events.models import DeadLetter, Event
from tests.factories import ProspectFactory


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

    def run(prospects) -> None:
        prospects_enqueue_enrichment(prospects=prospects)
        for _ in range(2):  # enrich emits validate: wait for both, twice
            broker.join("enrich", timeout=30000)
            broker.join("validate", timeout=30000)
            worker.join()

    yield run
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
