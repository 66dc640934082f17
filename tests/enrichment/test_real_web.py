"""Enrichment against loopback sites that behave like the real web (tests/fakes/realweb.py).

Each fixture site is a prospect with only a name, a city and a country (or a given
website); enrichment and local validation run as in production, with the SSRF guard
on (only 127.0.0.1 let through). The business's own address must be chosen, and
where the right outcome is no address, none may be.
"""

import pytest

from crm.models import Prospect
from enrichment.services import email_validate, prospect_enrich
from tests.enrichment.conftest import aim_enrichment
from tests.factories import ProspectFactory
from tests.fakes.realweb import REAL_WEB, Fixture, RealWebServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(real_web, guard_on):
    aim_enrichment(guard_on, port=real_web.port, resolver=real_web.resolver())
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


def test_a_namesake_in_another_city_is_rejected_and_the_reason_recorded(web):
    bern = next(f for f in REAL_WEB if f.name == "Restaurant Bellevue")
    prospect = enrich_and_validate(web, bern)
    decoy = next(a for a in prospect.enrichment["website_attempts"] if "//bellevue.ch" in a["url"])
    assert decoy["outcome"].startswith("rejected: name in title 100%, in text 100%, city no")
    assert decoy["outcome"].endswith("the site never names Bern: another business?")
    assert "info@bellevue.ch" not in {c["email"] for c in prospect.enrichment["candidates"]}
    assert prospect.enrichment["website"]["domain"] == "bellevue-bern.ch"


def test_a_city_named_only_on_a_contact_page_confirms_the_site_and_it_is_read_once(web):
    bahnhof = next(f for f in REAL_WEB if f.name == "Hotel Bahnhof")
    web.requests.clear()
    prospect = enrich_and_validate(web, bahnhof)
    assert prospect.enrichment["website"]["evidence"].endswith(
        f"city on http://bahnhof.ch:{web.port}/impressum"
    )
    assert web.requests.count("bahnhof.ch/impressum") == 1  # the crawl reuses the page


def test_third_parties_addresses_are_rejected_with_their_reasons(web):
    reasons = {}
    for case in ("web agency credits in the footer", "form placeholders",
                 "Sentry key and site-builder addresses in scripts"):  # fmt: skip
        fixture = next(f for f in REAL_WEB if f.case == case)
        prospect = enrich_and_validate(web, fixture)
        reasons |= {r["email"]: r["reason"] for r in prospect.enrichment["rejected"]}
    assert reasons == {
        "hello@pixelwerk.ch": "not on linde.ch",
        "studio@lindemedia.ch": "web agency credit",
        "example@example.com": "placeholder address",
        "max.mustermann@rigi.ch": "placeholder address",
        "a1b2c3d4e5f6a7b8c9d0e1f2@waldhaus.ch": "a key, not a mailbox",
        "wordpress@waldhaus.ch": "sent by website software, nobody reads it",
    }
