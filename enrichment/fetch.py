"""Fetch web pages of prospects without ever reaching what we should not.

Every connection goes through `GuardedBackend`, which resolves the host itself,
refuses loopback/private/link-local/multicast/reserved addresses and then connects
to the address it checked. Because the check sits where the socket is opened, it
covers every redirect hop and leaves no window for DNS rebinding between "check"
and "connect". Redirects are followed by hand so each hop is bounded and recorded.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx
from django.conf import settings

from enrichment.dns import DnsError, Resolver, get_resolver

HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """A page could not be fetched; `reason` is a short code kept in enrichment data."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class BlockedAddress(FetchError):
    def __init__(self, detail: str) -> None:
        super().__init__("blocked_address", detail)


@dataclass(frozen=True)
class FetchedPage:
    url: str
    status: int
    text: str
    redirects: list[str] = field(default_factory=list)
    truncated: bool = False


def address_is_public(address: str) -> bool:
    """True only for globally routable unicast addresses."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


@dataclass(frozen=True)
class AddressPolicy:
    """Which resolved addresses may be connected to.

    `allow_private` switches the guard off (tests serving loopback sites only);
    `allowed_networks` lets exact private networks through with the guard on, e.g.
    the local demo site, or a loopback fixture in the tests of the guard itself.
    """

    allow_private: bool = False
    allowed_networks: tuple = ()

    @classmethod
    def from_settings(cls) -> AddressPolicy:
        networks = tuple(
            ipaddress.ip_network(n, strict=False) for n in settings.ENRICHMENT_ALLOWED_NETWORKS
        )
        return cls(settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES, networks)

    def allows(self, address: str) -> bool:
        if self.allow_private or address_is_public(address):
            return True
        ip = ipaddress.ip_address(address)
        return any(ip in network for network in self.allowed_networks)


def literal_address(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def resolve_allowed(host: str, *, resolver: Resolver, policy: AddressPolicy) -> list[str]:
    """Addresses we may connect to for `host`; raises BlockedAddress/FetchError otherwise.

    A host with any non-public address is refused whole: a name that mixes public
    and private records is a rebinding attempt or a misconfiguration, never a hotel.
    """
    literal = literal_address(host)
    try:
        addresses = [literal] if literal else resolver.addresses(host)
    except DnsError as exc:
        raise FetchError("dns", f"{host}: {exc}") from exc
    if not addresses:
        raise FetchError("dns", f"{host} has no address")
    refused = [a for a in addresses if not policy.allows(a)]
    if refused:
        raise BlockedAddress(f"{host} resolves to non-public {refused[0]}")
    return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore backend that vets the resolved address before every TCP connect."""

    def __init__(self, *, resolver: Resolver, policy: AddressPolicy) -> None:
        self.resolver = resolver
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_allowed(host, resolver=self.resolver, policy=self.policy)
        # TLS still verifies against the host name: httpcore passes it to start_tls.
        return self.inner.connect_tcp(addresses[0], port, timeout, local_address, socket_options)

    def connect_unix_socket(self, *args, **kwargs) -> httpcore.NetworkStream:
        raise BlockedAddress("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes a noticeable part of a second; one context is shared.
    return httpx.create_ssl_context()


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, resolver: Resolver, policy: AddressPolicy) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        # httpx 0.28 (pinned) takes no network_backend argument, so the pool it built
        # is replaced by one that uses ours; everything else is httpx's own code path.
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=10,
            network_backend=GuardedBackend(resolver=resolver, policy=policy),
        )


class Fetcher:
    """A small browser for one enrichment run: bounded pages, bytes and time."""

    def __init__(self, *, resolver: Resolver | None = None, deadline: float | None = None) -> None:
        self.max_bytes: int = settings.ENRICHMENT_MAX_BYTES
        self.max_redirects: int = settings.ENRICHMENT_MAX_REDIRECTS
        self.page_timeout: float = settings.ENRICHMENT_PAGE_TIMEOUT
        self.deadline = deadline
        self.client = httpx.Client(
            transport=GuardedTransport(
                resolver=resolver or get_resolver(), policy=AddressPolicy.from_settings()
            ),
            timeout=httpx.Timeout(
                settings.ENRICHMENT_READ_TIMEOUT, connect=settings.ENRICHMENT_CONNECT_TIMEOUT
            ),
            headers={
                "User-Agent": settings.ENRICHMENT_USER_AGENT,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                "Accept-Language": "en,*;q=0.5",
            },
            follow_redirects=False,
            trust_env=False,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info) -> None:
        self.client.close()

    def get(self, url: str) -> FetchedPage:
        """Fetch an HTML page, following at most `max_redirects` checked hops."""
        redirects: list[str] = []
        current = check_url(url)
        for _ in range(self.max_redirects + 1):
            response = self._open(current)
            try:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    redirects.append(current)
                    current = check_url(urljoin(current, response.headers["location"]))
                    continue
                return self._read_page(response, current, redirects)
            finally:
                response.close()
        raise FetchError("too_many_redirects", f"more than {self.max_redirects} from {url}")

    def _open(self, url: str) -> httpx.Response:
        self._check_time(url)
        try:
            return self.client.send(self.client.build_request("GET", url), stream=True)
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", url) from exc
        except httpx.HTTPError as exc:
            raise FetchError("connection", f"{url}: {type(exc).__name__}") from exc

    def _read_page(self, response: httpx.Response, url: str, redirects: list[str]) -> FetchedPage:
        if response.status_code >= 400:
            raise FetchError("http_status", f"{url} answered {response.status_code}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in HTML_TYPES:
            raise FetchError("not_html", f"{url} is {content_type or 'untyped'}")
        body, truncated = self._read_capped(response, url)
        encoding = response.charset_encoding or "utf-8"
        try:
            text = body.decode(encoding, errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        return FetchedPage(
            url=url,
            status=response.status_code,
            text=text,
            redirects=redirects,
            truncated=truncated,
        )

    def _read_capped(self, response: httpx.Response, url: str) -> tuple[bytes, bool]:
        """Read at most `max_bytes`; a page that drips slowly is cut by wall-clock time."""
        page_deadline = time.monotonic() + self.page_timeout
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= self.max_bytes:
                    return b"".join(chunks)[: self.max_bytes], True
                if time.monotonic() > page_deadline:
                    raise FetchError("timeout", f"{url} still sending after {self.page_timeout}s")
                self._check_time(url)
        except httpx.TimeoutException as exc:
            raise FetchError("timeout", url) from exc
        except httpx.HTTPError as exc:
            raise FetchError("connection", f"{url}: {type(exc).__name__}") from exc
        return b"".join(chunks), False

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline

    def _check_time(self, url: str) -> None:
        if self.out_of_time():
            raise FetchError("time_budget", f"enrichment time budget spent before {url}")


def check_url(url: str) -> str:
    """Only absolute http(s) URLs without credentials are fetched."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a garbage port
    except ValueError as exc:
        raise FetchError("bad_url", repr(url)[:200]) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", repr(url)[:200])
    if parts.username or parts.password:
        raise FetchError("bad_url", "URLs with credentials are not fetched")
    return parts.geturl()
