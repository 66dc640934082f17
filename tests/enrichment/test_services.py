"""prospect_enrich / email_validate / prospects_enqueue_enrichment against real parts:
PostgreSQL, Redis (locks, breakers), the loopback fixture sites and fake MillionVerifier."""

import pytest

from crm.models import EmailStatus, Stage
from crm.services import prospects_enqueue_enrichment
from enrichment.choice import choose_address
from enrichment.selectors import prospect_enrichment_summary
from enrichment.services import email_validate, prospect_enrich
from enrichment.validation import MillionVerifier
from jengu.events.models import Event
from jengu.redis_helpers import ProspectLock, reset_breaker
from tests.enrichment.conftest import aim_enrichment
from tests.factories import ProspectFactory
from tests.fakes.millionverifier import API_KEY, FakeMillionVerifier

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(sites, loopback_allowed):
    """Enrichment pointed at the fixture sites, with their DNS injected."""
    aim_enrichment(loopback_allowed, port=sites.port, resolver=sites.resolver())
    return sites


def casa_azul(**fields):
    defaults = {"business_name": "Hotel Casa Azul", "contact_name": "Ana Costa", "email": "",
                "city": "Lisbon", "country": "PT"}  # fmt: skip
    return ProspectFactory(**(defaults | fields))


def emitted(event_type):
    return [e.payload for e in Event.objects.filter(type=event_type).order_by("created_at")]


def test_enrichment_finds_website_and_ranked_addresses_and_queues_validation(world):
    prospect = casa_azul()
    result = prospect_enrich(prospect=prospect)

    prospect.refresh_from_db()
    assert prospect.stage == Stage.ENRICHED
    assert (prospect.website, prospect.domain) == (world.url("casaazul.pt"), "casaazul.pt")
    data = prospect.enrichment
    assert data["website"]["method"] == "guess"
    assert data["to_validate"] == [
        "ana.costa@casaazul.pt",
        "reservas@casaazul.pt",
        "sales@casaazul.pt",
    ]
    assert result.to_validate == data["to_validate"]
    assert [c["source"] for c in data["candidates"][:4]] == ["text", "mailto", "cloudflare",
                                                             "obfuscated"]  # fmt: skip
    assert {r["email"] for r in data["rejected"]} == {"partners@booking.com", "noreply@casaazul.pt"}
    assert emitted("ValidateEmail") == [
        {"prospect_id": prospect.pk, "email": email} for email in data["to_validate"]
    ]
    stages = list(prospect.stage_changes.order_by("created_at").values_list("to_stage", flat=True))
    assert stages == [Stage.ENRICHING, Stage.ENRICHED]


def test_validation_chooses_the_best_ranked_valid_address(world):
    prospect = casa_azul()
    prospect_enrich(prospect=prospect)
    email_validate(prospect=prospect, email="reservas@casaazul.pt", verifier=None)
    prospect.refresh_from_db()
    assert prospect.stage == Stage.ENRICHED  # the better-ranked address is still pending
    email_validate(prospect=prospect, email="ana.costa@casaazul.pt", verifier=None)
    prospect.refresh_from_db()
    assert (prospect.email, prospect.email_status, prospect.stage) == (
        "ana.costa@casaazul.pt",
        EmailStatus.VALID,
        Stage.READY,
    )
    assert prospect.enrichment["chosen"]["email"] == "ana.costa@casaazul.pt"
    assert prospect.enrichment["validation"]["reservas@casaazul.pt"]["method"] == "local"


def test_invalid_everywhere_makes_the_prospect_invalid(world, settings):
    mv = FakeMillionVerifier().start()
    reset_breaker("provider:millionverifier")
    try:
        verifier = MillionVerifier(base_url=mv.url, api_key=API_KEY, rate_per_second=100)
        prospect = casa_azul()
        prospect_enrich(prospect=prospect)
        for email in prospect.enrichment["to_validate"]:
            mv.results[email] = "invalid"
            email_validate(prospect=prospect, email=email, verifier=verifier)
    finally:
        mv.stop()
    prospect.refresh_from_db()
    assert (prospect.email_status, prospect.stage) == (EmailStatus.INVALID, Stage.INVALID)
    assert prospect.enrichment["chosen"]["reason"] == "all 3 candidates invalid"


def test_a_prospect_being_enriched_elsewhere_is_skipped_and_the_skip_recorded(world):
    prospect = casa_azul()
    other_worker = ProspectLock(prospect.pk)
    assert other_worker.try_acquire()
    try:
        result = prospect_enrich(prospect=prospect)
    finally:
        other_worker.release()
    prospect.refresh_from_db()
    assert result.status == "skipped"
    assert prospect.stage == Stage.NEW
    assert prospect.enrichment["skips"][0]["reason"] == "already being enriched by another worker"
    assert world.requests == []
    assert emitted("ValidateEmail") == []


def test_a_contacted_prospect_is_not_enriched_again(world):
    prospect = casa_azul(stage=Stage.CONTACTED, email="ana@casaazul.pt")
    assert prospect_enrich(prospect=prospect).reason == "stage contacted is past enrichment"
    assert world.requests == []


def test_a_pre_verified_address_is_trusted_and_nothing_is_spent_on_it(world):
    prospect = casa_azul(email="reservas@casaazul.pt", email_status=EmailStatus.VALID)
    prospect_enrich(prospect=prospect)
    prospect.refresh_from_db()
    assert (prospect.email, prospect.stage) == ("reservas@casaazul.pt", Stage.READY)
    assert emitted("ValidateEmail") == []


def test_an_address_held_by_another_prospect_is_not_taken(world):
    ProspectFactory(email="ana.costa@casaazul.pt")
    prospect = casa_azul()
    prospect_enrich(prospect=prospect)
    for email in prospect.enrichment["to_validate"]:
        email_validate(prospect=prospect, email=email, verifier=None)
    prospect.refresh_from_db()
    assert prospect.email == "reservas@casaazul.pt"


@pytest.mark.parametrize(
    ("fields", "reason_part"),
    [
        ({"business_name": "", "city": ""}, "no domain can be made from the business name"),
        ({"business_name": "東京ホテル", "country": "JP"}, "none of"),
        ({"business_name": "Гостиница Москва", "country": "RU"}, "none of"),
        ({"business_name": "Zzz", "website": "ht!tp://::"}, "none of"),
        ({"business_name": "Zzz", "website": "PDF"}, "none of"),
    ],
)
def test_bad_inputs_end_enriched_with_a_recorded_reason(world, fields, reason_part):
    if fields.get("website") == "PDF":
        fields["website"] = world.url(path="/brochure.pdf")
    prospect = casa_azul(contact_name="", **fields)
    result = prospect_enrich(prospect=prospect)
    prospect.refresh_from_db()
    assert prospect.stage == Stage.ENRICHED
    assert prospect.enrichment["website"] is None
    outcomes = " | ".join(a["outcome"] for a in prospect.enrichment["website_attempts"])
    assert reason_part in outcomes
    assert "no website" in result.reason
    assert prospect.enrichment["chosen"] == {"email": "", "status": "unknown",
                                             "reason": "no address found"}  # fmt: skip


def test_enqueue_emits_for_enrichable_prospects_and_says_why_others_were_skipped(world):
    fresh, ready = casa_azul(), casa_azul(email="a@b.pt", stage=Stage.READY)
    won = casa_azul(email="c@b.pt", stage=Stage.WON)
    result = prospects_enqueue_enrichment(prospects=[fresh, ready, won])
    assert result.queued == [fresh.pk, ready.pk]
    assert result.skipped == {won.pk: "stage is won"}
    assert emitted("EnrichProspect") == [{"prospect_id": fresh.pk}, {"prospect_id": ready.pk}]


class TestChoice:
    def test_waits_for_a_better_ranked_verdict(self):
        choice = choose_address(ranked=["a", "b"], verdicts={"b": {"status": "valid"}})
        assert not choice.decided

    def test_valid_wins_over_catch_all_ranked_above_it(self):
        verdicts = {"a": {"status": "catch_all"}, "b": {"status": "valid"}}
        assert choose_address(ranked=["a", "b"], verdicts=verdicts).email == "b"

    def test_catch_all_beats_risky_once_all_are_known(self):
        verdicts = {"a": {"status": "risky"}, "b": {"status": "catch_all"}}
        choice = choose_address(ranked=["a", "b"], verdicts=verdicts)
        assert (choice.email, choice.stage) == ("b", Stage.READY)

    def test_risky_keeps_the_prospect_enriched(self):
        choice = choose_address(ranked=["a"], verdicts={"a": {"status": "risky"}})
        assert (choice.email, choice.stage) == ("a", Stage.ENRICHED)


def test_the_summary_for_the_api_says_what_was_chosen_and_why(world):
    prospect = casa_azul()
    prospect_enrich(prospect=prospect)
    email_validate(prospect=prospect, email="ana.costa@casaazul.pt", verifier=None)
    summary = prospect_enrichment_summary(prospect=prospect)
    assert summary["website"]["method"] == "guess"
    assert summary["chosen"]["email"] == "ana.costa@casaazul.pt"
    first = summary["candidates"][0]
    assert (first["email"], first["status"], first["source"]) == (
        "ana.costa@casaazul.pt",
        "valid",
        "text",
    )
    assert summary["candidates"][1]["status"] == "not_validated"
    assert prospect_enrichment_summary(prospect=casa_azul()) == {}
