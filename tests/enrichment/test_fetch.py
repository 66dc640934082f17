"""The fetcher: SSRF guard on every hop, and bounded bytes, time and redirects."""

import gzip
import time
import zlib

import brotli
import httpx
import pytest

from enrichment.bodies import ACCEPT_ENCODING, decoders_for, read_body
from enrichment.fetch import Fetcher, FetchError
from jengu.dns import StaticResolver
from jengu.netguard import AddressPolicy, GuardedTransport, address_is_public, deadline

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

    @pytest.mark.parametrize(
        ("path", "reason"),
        [("/redirect-garbage", "bad_url"), ("/redirect-shorthand", "blocked_address")],
    )
    def test_a_bad_redirect_is_a_fetch_error(self, sites, guard_on, path, reason):
        assert reason_of(sites.url(path=path)).reason == reason

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


class TestBodiesAsServersSendThem:
    @pytest.mark.parametrize("path", ["/gzip", "/deflate", "/raw-deflate", "/br"])
    def test_compressed_pages_are_decoded(self, sites, loopback_allowed, path):
        page = fetch(sites.url(path=path))
        assert "reservas@casaazul.pt" in page.text
        assert not page.truncated

    def test_we_advertise_only_codings_we_decode(self, sites, loopback_allowed):
        fetch(sites.url(path="/gzip"))
        assert (
            sites.request_headers[-1]["Accept-Encoding"] == ACCEPT_ENCODING == "gzip, deflate, br"
        )

    def test_the_byte_cap_applies_to_the_decoded_page(self, sites, loopback_allowed):
        page = fetch(sites.url(path="/gzip-large"))
        assert page.truncated
        assert len(page.text.encode()) == loopback_allowed.ENRICHMENT_MAX_BYTES
        assert page.text.startswith("<html><title>Hotel Casa Azul")

    @pytest.mark.parametrize("path", ["/gzip-bomb", "/br-bomb"])
    def test_a_compression_bomb_is_refused(self, sites, loopback_allowed, path):
        error = reason_of(sites.url(path=path))
        assert error.reason == "compression_bomb"

    @pytest.mark.parametrize(
        ("path", "detail"),
        [("/corrupt-gzip", "corrupt"), ("/zstd", "unsupported content coding")],
    )
    def test_undecodable_bodies_are_a_fetch_error(self, sites, loopback_allowed, path, detail):
        error = reason_of(sites.url(path=path))
        assert error.reason == "bad_encoding"
        assert detail in error.detail


@pytest.mark.parametrize(
    ("make", "coding"),
    [(lambda b: gzip.compress(b, 9), "gzip"), (zlib.compress, "deflate"),
     (lambda b: zlib.compress(b)[2:-4], "deflate"),
     (lambda b: brotli.compress(b, quality=5), "br")],
)  # fmt: skip
def test_a_bomb_is_never_inflated_past_the_cap(make, coding):
    """Each decoder is asked for at most what the cap leaves, whatever one piece holds."""
    bomb = make(b"\0" * 20_000_000)
    for decoder in decoders_for(coding):
        assert len(decoder.feed(bomb, 1000)) == 1000
    with pytest.raises(FetchError) as caught:
        read_body([bomb], content_encoding=coding, max_bytes=50_000)
    assert caught.value.reason == "compression_bomb"


def test_layered_codings_are_undone_in_order():
    body = brotli.compress(gzip.compress(b"<p>info@casaazul.pt</p>"))
    decoded = read_body([body[:7], body[7:]], content_encoding="gzip, br", max_bytes=1000)
    assert decoded.content == b"<p>info@casaazul.pt</p>"


class TestDeadlines:
    def test_a_server_dripping_its_headers_is_cut_by_the_page_deadline(
        self, sites, loopback_allowed
    ):
        error = reason_of(sites.url(path="/drip-headers"))
        assert error.reason == "timeout"
        # 0.6 s of page time at one byte per 50 ms: about a dozen bytes, never the 100
        # the server sends a client that waits for it to give up.
        assert sites.header_bytes_dripped < 40

    def test_the_run_deadline_cuts_a_page_that_has_time_of_its_own(self, sites, loopback_allowed):
        loopback_allowed.ENRICHMENT_PAGE_TIMEOUT = 30
        resolver = StaticResolver()
        fetcher = Fetcher(resolver=resolver, deadline=time.monotonic() + 0.4)
        with fetcher, pytest.raises(FetchError) as caught:
            fetcher.get(sites.url(path="/drip-headers"))
        assert caught.value.reason == "time_budget"
        assert sites.header_bytes_dripped < 40

    def test_the_guard_s_deadline_bounds_any_client_that_uses_it(self, sites):
        client = httpx.Client(
            transport=GuardedTransport(resolver=StaticResolver(), policy=AddressPolicy(True))
        )
        with client, deadline(time.monotonic() + 0.3), pytest.raises(httpx.TimeoutException):
            client.get(sites.url(path="/drip-headers"))
        assert sites.header_bytes_dripped < 40

    def test_a_page_fetched_twice_in_a_run_is_read_once(self, sites, loopback_allowed):
        with Fetcher(resolver=sites.resolver()) as fetcher:
            first = fetcher.get(sites.url("casaazul.pt"))
            assert fetcher.get(sites.url("casaazul.pt")) is first
        assert len(sites.requests) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [("http://0177.0.0.1/", "blocked_address"), ("http://0x7f.1/", "blocked_address"),
     ("http://2130706433/", "blocked_address"), ("http://127.1/", "blocked_address"),
     ("http://0x08080808/", "bad_url"), ("http://1.2.3.999/", "bad_url"),
     ("http://a..b/", "bad_url"), ("http://xn--/", "bad_url"), ("http://ex ample.pt/", "bad_url"),
     ("http://[::1/", "bad_url"), ("http://hotel.pt:0x50/", "bad_url")],
)  # fmt: skip
def test_addresses_in_shorthand_and_broken_hosts_are_fetch_errors(url, reason, fast_fetching):
    error = reason_of(url)
    assert error.reason == reason
    assert "0177" not in url or "127.0.0.1" in error.detail
