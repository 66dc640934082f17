"""Enrichment against loopback sites that behave like the real web (tests/fakes/realweb.py).

Each fixture site is a prospect with only a name, a city and a country (or a given
website); enrichment and local validation run as in production, with the SSRF guard
on (only 127.0.0.1 let through). The business's own address must be chosen, and
where the right outcome is no address, none may be.
"""

import pytest

from crm.models import Prospect
from enrichment.services import email_validate, prospect_enrich
from tests.factories import ProspectFactory
from tests.fakes.realweb import REAL_WEB, Fixture, RealWebServer

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def real_web():
    server = RealWebServer().start()
    yield server
    server.stop()


@pytest.fixture
def web(real_web, guard_on):
    guard_on.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{real_web.port}/"]
    guard_on.ENRICHMENT_DNS_RESOLVER = real_web.resolver()
    guard_on.MILLIONVERIFIER_API_KEY = ""
    guard_on.SEARCH_API_KEY = ""
    return real_web


def enrich_and_validate(web: RealWebServer, fixture: Fixture) -> Prospect:
    prospect = ProspectFactory(**fixture.prospect_fields, website=web.website(fixture))
    prospect_enrich(prospect=prospect)
    for email in prospect.enrichment["to_validate"]:
        email_validate(prospect=prospect, email=email, verifier=None)
    prospect.refresh_from_db()
    return prospect


def test_the_set_is_large_enough_to_mean_something():
    assert len(REAL_WEB) >= 30
    assert len({f.case for f in REAL_WEB}) == len(REAL_WEB)


@pytest.mark.parametrize("fixture", REAL_WEB, ids=[f.case for f in REAL_WEB])
def test_the_business_s_own_address_is_chosen(web, fixture):
    prospect = enrich_and_validate(web, fixture)
    record = prospect.enrichment
    assert prospect.email == fixture.expected, (record["summary"], record["website_attempts"],
                                                record["pages"], record["rejected"])  # fmt: skip
    assert prospect.stage != "enriching"
