"""The fetcher: SSRF guard on every hop, and bounded bytes, time and redirects."""

import time

import pytest

from enrichment.fetch import Fetcher, FetchError
from jengu.dns import StaticResolver
from jengu.netguard import address_is_public

NOT_PUBLIC = [
    "127.0.0.1", "127.8.8.8", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1",  # noqa: S104 "240.0.0.1", "255.255.255.255", "::1", "::",
    "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "192.0.2.10",
]  # fmt: skip


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert address_is_public(address)


def fetch(url, resolver=None):
    with Fetcher(resolver=resolver or StaticResolver()) as fetcher:
        return fetcher.get(url)


def reason_of(url, resolver=None) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, resolver)
    return caught.value


class TestGuardWithPrivateAddressesOff:
    def test_loopback_site_is_refused_before_any_request(self, sites, fast_fetching):
        error = reason_of(sites.url())
        assert error.reason == "blocked_address"
        assert sites.requests == []

    def test_host_name_resolving_to_loopback_is_refused(self, sites, fast_fetching):
        error = reason_of(sites.url("casaazul.pt"), sites.resolver())
        assert error.reason == "blocked_address"
        assert "127.0.0.1" in error.detail
        assert sites.requests == []

    @pytest.mark.parametrize("host", ["169.254.169.254", "10.0.0.1", "[::1]", "0.0.0.0"])  # noqa: S104
    def test_private_literals_are_refused(self, host, fast_fetching):
        assert reason_of(f"http://{host}/latest/").reason == "blocked_address"

    def test_a_name_with_one_private_record_among_public_ones_is_refused(self, fast_fetching):
        resolver = StaticResolver(addresses={"mixed.example": ["93.184.216.34", "10.0.0.5"]})
        assert reason_of("http://mixed.example/", resolver).reason == "blocked_address"

    def test_redirect_to_the_metadata_address_is_refused(self, sites, guard_on):
        error = reason_of(sites.url(path="/redirect-private"))
        assert error.reason == "blocked_address"
        assert "169.254.169.254" in error.detail

    def test_redirect_to_another_loopback_address_is_refused(self, sites, guard_on):
        error = reason_of(sites.url(path="/redirect-loopback"))
        assert error.reason == "blocked_address"
        assert "127.0.0.2" in error.detail

    def test_an_allowed_network_is_reachable(self, sites, guard_on):
        assert "Casa Azul" in fetch(sites.url("casaazul.pt"), sites.resolver()).text


class TestBounds:
    def test_home_page_is_fetched_with_our_user_agent(self, sites, loopback_allowed):
        page = fetch(sites.url("casaazul.pt"), sites.resolver())
        assert "<title>Hotel Casa Azul" in page.text
        assert sites.requests[-1][2] == loopback_allowed.ENRICHMENT_USER_AGENT

    def test_endless_page_is_cut_at_the_byte_cap(self, sites, loopback_allowed):
        page = fetch(sites.url(path="/endless"))
        assert page.truncated
        assert len(page.text) <= loopback_allowed.ENRICHMENT_MAX_BYTES

    def test_silent_page_times_out(self, sites, loopback_allowed):
        assert reason_of(sites.url(path="/slow")).reason == "timeout"

    def test_page_that_drips_bytes_is_cut_by_wall_clock(self, sites, loopback_allowed):
        error = reason_of(sites.url(path="/drip"))
        assert error.reason == "timeout"
        assert "not done within" in error.detail

    def test_redirect_loop_stops_at_the_limit(self, sites, loopback_allowed):
        assert reason_of(sites.url(path="/redirect-loop")).reason == "too_many_redirects"
        assert len(sites.requests) == loopback_allowed.ENRICHMENT_MAX_REDIRECTS + 1

    def test_non_html_is_not_read(self, sites, loopback_allowed):
        error = reason_of(sites.url(path="/brochure.pdf"))
        assert (error.reason, error.detail.split()[-1]) == ("not_html", "application/pdf")

    def test_binary_junk_labelled_html_does_not_crash(self, sites, loopback_allowed):
        assert fetch(sites.url(path="/garbage")).status == 200

    def test_missing_page_is_an_http_status_error(self, sites, loopback_allowed):
        assert reason_of(sites.url(path="/nope")).reason == "http_status"

    def test_unknown_host_is_a_dns_error(self, loopback_allowed):
        assert reason_of("http://no-such-hotel.example/").reason == "dns"

    def test_spent_time_budget_stops_before_the_request(self, sites, loopback_allowed):
        fetcher = Fetcher(resolver=StaticResolver(), deadline=time.monotonic() - 1)
        with fetcher, pytest.raises(FetchError) as caught:
            fetcher.get(sites.url())
        assert caught.value.reason == "time_budget"
        assert sites.requests == []


@pytest.mark.parametrize(
    "url",
    ["", "ht!tp://::", "javascript:alert(1)", "file:///etc/passwd", "http://user:pw@x.example/",
     "http://x.example:99999/", "hotel casa azul"],
)  # fmt: skip
def test_garbage_urls_are_refused_with_a_reason(url, fast_fetching):
    assert reason_of(url).reason == "bad_url"
