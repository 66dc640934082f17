"""Fixture sites on loopback and settings that let enrichment reach them."""

import pytest

from tests.fakes.realweb import RealWebServer
from tests.fakes.sites import FixtureSites


def aim_enrichment(settings, *, port: int, resolver) -> None:
    """Guess domains on `port` with `resolver`'s DNS; no verifier, no search."""
    settings.ENRICHMENT_GUESS_URL_TEMPLATES = [f"http://{{domain}}:{port}/"]
    settings.ENRICHMENT_DNS_RESOLVER = resolver
    settings.MILLIONVERIFIER_API_KEY = ""
    settings.SEARCH_API_KEY = ""


@pytest.fixture(scope="session")
def running_sites():
    server = FixtureSites().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def real_web():
    server = RealWebServer().start()
    yield server
    server.stop()


@pytest.fixture
def sites(running_sites):
    running_sites.requests.clear()
    running_sites.request_headers.clear()
    return running_sites


@pytest.fixture
def fast_fetching(settings):
    """Small caps so the fault pages fail in well under a second."""
    settings.ENRICHMENT_READ_TIMEOUT = 0.3
    settings.ENRICHMENT_CONNECT_TIMEOUT = 0.5
    settings.ENRICHMENT_PAGE_TIMEOUT = 0.6
    settings.ENRICHMENT_MAX_BYTES = 50_000
    return settings


@pytest.fixture
def loopback_allowed(fast_fetching):
    """The SSRF guard's test-only switch: these tests fetch sites on 127.0.0.1."""
    fast_fetching.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = True
    return fast_fetching


@pytest.fixture
def guard_on(fast_fetching):
    """The guard as in production, except that exactly 127.0.0.1 is reachable."""
    fast_fetching.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES = False
    fast_fetching.ENRICHMENT_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    return fast_fetching
