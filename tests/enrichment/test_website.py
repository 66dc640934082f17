"""Finding a website: the one given, guessed domains confirmed by page, or search."""

import pytest

from crm.models import Prospect
from enrichment.fetch import Fetcher
from enrichment.names import core_tokens, domain_labels
from enrichment.search import BraveSearch
from enrichment.website import WebsiteFinder, guess_domains
from jengu.redis_helpers import reset_breaker
from tests.fakes.sites import FixtureSites


@pytest.mark.parametrize(
    ("name", "city", "first_labels"),
    [
        ("Hotel Casa Azul", "Lisbon", ["casaazul", "casa-azul", "hotelcasaazul"]),
        ("The Grand & Royal", "", ["grandroyal", "grand-royal", "thegrandandroyal"]),
        ("Hôtel Ñandú", "", ["nandu", "hotelnandu"]),
        ("Гостиница Москва", "", ["gostinitsamoskva", "gostinitsa-moskva"]),
        ("東京ホテル", "", ["dongjinghoteru"]),
    ],
)
def test_domain_labels_from_names_in_any_script(name, city, first_labels):
    assert domain_labels(name, city)[: len(first_labels)] == first_labels


def test_names_without_usable_words_give_no_labels():
    assert domain_labels("", "") == []
    assert domain_labels("   &  ", "") == []
    assert core_tokens("Hotel") == ["hotel"]  # every word generic: keep them all


def test_the_country_tld_is_tried_first():
    prospect = Prospect(business_name="Casa Azul", city="Lisbon", country="PT")
    assert guess_domains(prospect)[:3] == ["casaazul.pt", "casa-azul.pt", "casaazullisbon.pt"]
    assert "casaazul.com" in guess_domains(prospect)
    gb = Prospect(business_name="Rose Inn", country="GB")
    assert guess_domains(gb)[0] == "rose.co.uk"


@pytest.fixture
def guessing(sites, loopback_allowed):
    loopback_allowed.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{sites.port}/"]
    return sites


def find(sites, prospect, search=None):
    resolver = sites.resolver()
    with Fetcher(resolver=resolver) as fetcher:
        return WebsiteFinder(fetcher=fetcher, resolver=resolver, search=search).find(prospect)


def test_a_guessed_domain_is_confirmed_by_its_page(guessing):
    result = find(guessing, Prospect(business_name="Hotel Casa Azul", city="Lisbon", country="PT"))
    site = result.site
    assert (site.domain, site.method) == ("casaazul.pt", "guess")
    assert site.confidence == 1.0
    assert "name in title 100%" in site.evidence


def test_a_domain_whose_page_names_another_business_is_rejected(guessing):
    prospect = Prospect(business_name="Hotel Casa Azul", city="Lisbon", country="FR")
    result = find(guessing, prospect)
    assert result.site is None
    rejected = [a for a in result.attempts if a["outcome"].startswith("rejected")]
    assert [a["url"].split(":")[1] for a in rejected] == ["//casaazul.com"]
    assert result.attempts[-2:] == [
        {"url": "", "method": "guess", "outcome": "none of 16 guessed domains confirmed"},
        {"url": "", "method": "search", "outcome": "off: no SEARCH_API_KEY"},
    ]


def test_guessing_stops_when_the_time_budget_is_spent(guessing):
    prospect = Prospect(business_name="Hotel Casa Azul", city="Lisbon", country="PT")
    resolver = guessing.resolver()
    with Fetcher(resolver=resolver, deadline=0) as fetcher:
        result = WebsiteFinder(fetcher=fetcher, resolver=resolver, search=None).find(prospect)
    assert result.site is None
    assert result.attempts[0] == {
        "url": "casaazul.pt",
        "method": "guess",
        "outcome": "time budget spent; stopped guessing",
    }


def test_a_given_website_is_kept(guessing):
    prospect = Prospect(business_name="Anything", website=guessing.url("casaazul.pt"))
    site = find(guessing, prospect).site
    assert (site.method, site.confidence, site.domain) == ("provided", 1.0, "casaazul.pt")


def test_a_garbage_website_is_recorded_and_guessing_takes_over(guessing):
    prospect = Prospect(business_name="Hotel Casa Azul", country="PT", website="ht!tp://::")
    result = find(guessing, prospect)
    assert result.attempts[0]["outcome"].startswith("bad_url")
    assert result.site.method == "guess"


def test_the_domain_of_a_business_address_is_tried_before_guessing(guessing):
    prospect = Prospect(business_name="Hotel Casa Azul", email="ana@casaazul.pt")
    assert find(guessing, prospect).site.method == "email_domain"


def test_a_free_mail_address_says_nothing_about_the_website(guessing):
    prospect = Prospect(business_name="Hotel Casa Azul", email="ana@gmail.com", country="PT")
    assert find(guessing, prospect).site.method == "guess"


@pytest.mark.parametrize("name", ["", "東京ホテル", "   ", "🏨🏨"])
def test_odd_names_end_with_recorded_reasons_not_errors(guessing, name):
    result = find(guessing, Prospect(business_name=name, country="JP"))
    assert result.site is None
    assert result.attempts  # every step said why it found nothing


@pytest.mark.django_db  # breaker transitions are recorded as events
class TestSearch:
    @pytest.fixture
    def brave(self, sites, loopback_allowed):
        reset_breaker("provider:brave-search")
        yield BraveSearch(base_url=sites.url(path="/search"), api_key="k", rate_per_second=50)
        reset_breaker("provider:brave-search")

    def test_search_skips_directories_and_confirms_the_hotel(self, sites, brave, settings):
        settings.ENRICHMENT_GUESS_URL_TEMPLATES = []
        result = find(sites, Prospect(business_name="Hotel Casa Azul", city="Lisbon"), brave)
        assert (result.site.method, result.site.domain) == ("search", "casaazul.pt")
        skipped = [a for a in result.attempts if a["outcome"].startswith("skipped")]
        assert skipped[0]["url"].startswith("https://www.booking.com")

    def test_search_outage_is_recorded(self, sites, brave, settings):
        down = FixtureSites(sites=[])  # started, then stopped: nothing listens there
        down.start().stop()
        brave.base_url = down.url(path="/search")
        settings.ENRICHMENT_GUESS_URL_TEMPLATES = []
        result = find(sites, Prospect(business_name="Casa Azul"), brave)
        assert result.site is None
        assert result.attempts[-1]["outcome"].startswith("unavailable: brave-search: connection")
