"""A prospect's region from its timezone, or its city and country; an inbox's home region
through the API and the admin."""

from __future__ import annotations

import pytest

from crm.regions import (
    inbox_region,
    prospect_region,
    region_of_enrollment_event,
    region_of_prospect_event,
    timezone_infer,
)
from crm.services import prospects_enqueue_enrichment
from tests.factories import EnrollmentFactory, InboxFactory, ProspectFactory


@pytest.mark.parametrize(
    ("city", "country", "timezone"),
    [
        ("Lisbon", "PT", "Europe/Lisbon"),  # one timezone: the country says it all
        ("paris", "fr", "Europe/Paris"),
        ("Chicago", "US", "America/Chicago"),
        ("los angeles", "US", "America/Los_Angeles"),
        ("São Paulo", "BR", "America/Sao_Paulo"),
        ("SAO-PAULO", "BR", "America/Sao_Paulo"),
        ("Manaus", "BR", "America/Manaus"),
        ("Perth", "AU", "Australia/Perth"),
        ("Vladivostok", "RU", "Asia/Vladivostok"),
        ("Smallville", "US", "America/New_York"),  # unknown city: the most populous one's
        ("", "CA", "America/Toronto"),
        ("Lisbon", "", ""),  # no country: unknown
        ("Lisbon", "ZZ", ""),
        ("Lisbon", "Portugal", ""),  # not an ISO code
    ],
)
def test_a_timezone_is_inferred_from_city_and_country(city, country, timezone):
    assert timezone_infer(city=city, country=country) == timezone


@pytest.mark.django_db
@pytest.mark.usefixtures("two_regions")
def test_a_prospect_region_follows_its_timezone_else_its_place():
    assert prospect_region(ProspectFactory.build(timezone="Europe/Berlin")) == "eu-west"
    assert prospect_region(ProspectFactory.build(timezone="America/Denver")) == "us-east"
    # An explicit timezone wins over the place.
    assert prospect_region(ProspectFactory.build(timezone="Asia/Tokyo", country="PT")) == (
        "eu-west"  # Tokyo (+9) is 9 h from Dublin and 10 h from New York
    )
    empty = {"timezone": ""}
    assert prospect_region(ProspectFactory.build(city="Madrid", country="ES", **empty)) == (
        "eu-west"
    )
    assert prospect_region(ProspectFactory.build(city="Austin", country="US", **empty)) == (
        "us-east"
    )
    assert prospect_region(ProspectFactory.build(city="", country="", **empty)) == "us-east"


@pytest.mark.django_db
@pytest.mark.usefixtures("two_regions")
def test_events_emitted_without_a_region_find_their_prospects():
    enrollment = EnrollmentFactory(prospect=ProspectFactory(timezone="Europe/Rome"))

    assert region_of_prospect_event({"prospect_id": enrollment.prospect_id}) == "eu-west"
    assert region_of_enrollment_event({"enrollment_id": enrollment.pk}) == "eu-west"
    # Deleted meanwhile: the default region (the actor will find nothing to do).
    assert region_of_prospect_event({"prospect_id": 0}) == "us-east"


@pytest.mark.django_db
def test_without_regions_nobody_has_a_region():
    assert prospect_region(ProspectFactory.build()) is None
    assert inbox_region(InboxFactory.build(region="")) is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("two_regions")
def test_enrichment_is_asked_for_on_the_prospects_regional_queue(broker):
    paris = ProspectFactory(timezone="Europe/Paris")
    austin = ProspectFactory(timezone="", city="Austin", country="US")

    prospects_enqueue_enrichment(prospects=[paris, austin])

    assert broker.do_qsize("enrich-eu-west") == 1
    assert broker.do_qsize("enrich-us-east") == 1
    assert broker.do_qsize("enrich") == 0
