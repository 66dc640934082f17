"""The demo as a new user meets it: seeded prospects enriched from the demo site."""

import pytest

from crm.demo import demo_seed
from crm.models import EmailStatus, Prospect, Stage
from enrichment.demo_site import DemoResolver, SiteServer, demo_hotels
from enrichment.services import email_validate, prospect_enrich

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_site(settings):
    server = SiteServer(demo_hotels(), search=True).start()
    # The settings `make run` uses for the demo (with the demo site's fixed port).
    settings.ENRICHMENT_DNS_RESOLVER = "enrichment.demo_site.DemoResolver"
    settings.ENRICHMENT_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{server.port}/"]
    settings.ENRICHMENT_GUESS_TLDS = ["example"]
    settings.MILLIONVERIFIER_API_KEY = ""
    settings.SEARCH_API_KEY = ""
    yield server
    server.stop()


def test_seeded_prospects_without_an_address_get_one_from_the_demo_site(demo_site):
    demo_seed()
    missing = list(Prospect.objects.filter(source="demo", email=""))
    assert missing
    for prospect in missing:
        prospect_enrich(prospect=prospect)
        for email in prospect.enrichment["to_validate"]:
            email_validate(prospect=prospect, email=email, verifier=None)
        prospect.refresh_from_db()
        assert prospect.stage == Stage.READY, prospect.enrichment["summary"]
        assert prospect.email.endswith(prospect.enrichment["website"]["domain"])
        assert prospect.email_status == EmailStatus.VALID


def test_the_demo_resolver_knows_only_the_demo_hotels():
    resolver = DemoResolver()
    domain = demo_hotels()[0].domain
    assert resolver.addresses(domain) == ["127.0.0.1"]
    assert resolver.mx(domain) == [(10, f"mx.{domain}")]
