"""Outbound connections that never reach what they should not.

Everything Jengu fetches from an address a stranger chose (prospects' websites,
webhook receivers an integrator registers) connects through `GuardedBackend`, which
resolves the host itself, refuses loopback/private/link-local/multicast/reserved
addresses and then connects to the address it checked. Because the check sits where
the socket is opened, it covers every redirect hop and leaves no window for DNS
rebinding between "check" and "connect". Mail hosts typed into an inbox are checked
with `host_refuse_private` when they are saved.

httpx's timeouts bound each socket operation, not a whole request: a server that
sends one header byte a second never trips them. Inside `deadline(at)` every
connect, TLS handshake, read and write of a guarded connection gets at most the
time left until `at`, so a request (headers and body) cannot outlive it.
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import re
import ssl
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from jengu.dns import DnsError, Resolver

HOST_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?", re.IGNORECASE)


class FetchError(Exception):
    """A page could not be fetched; `reason` is a short code kept in enrichment data."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class BlockedAddress(FetchError):
    def __init__(self, detail: str) -> None:
        super().__init__("blocked_address", detail)


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
    def build(
        cls, *, allow_private: bool = False, allowed_networks: Iterable[str] = ()
    ) -> AddressPolicy:
        """A policy from plain values, e.g. a subsystem's own settings."""
        networks = tuple(ipaddress.ip_network(n, strict=False) for n in allowed_networks)
        return cls(allow_private, networks)

    @classmethod
    def from_settings(cls) -> AddressPolicy:
        """Enrichment's policy (ENRICHMENT_ALLOW_PRIVATE_ADDRESSES, ..._ALLOWED_NETWORKS)."""
        return cls.build(
            allow_private=settings.ENRICHMENT_ALLOW_PRIVATE_ADDRESSES,
            allowed_networks=settings.ENRICHMENT_ALLOWED_NETWORKS,
        )

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


def check_url(url: str) -> str:
    """The URL, if it is an absolute http(s) URL we may try; FetchError otherwise.

    No credentials, a valid port, a host httpx can encode, and no IPv4 address in
    one of the shorthand forms browsers accept (`0177.0.0.1`, `0x7f.1`, `2130706433`):
    those exist to slip a private address past naive filters.
    """
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a garbage port
    except ValueError as exc:
        raise FetchError("bad_url", repr(url)[:200]) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("bad_url", repr(url)[:200])
    if parts.username or parts.password:
        raise FetchError("bad_url", "URLs with credentials are not fetched")
    _refuse_shorthand_ipv4(parts.hostname)
    try:
        host = httpx.URL(parts.geturl()).raw_host.decode("ascii")  # IDNA-encoded by httpx
    except httpx.InvalidURL as exc:
        raise FetchError("bad_url", f"{url[:200]!r}: {exc}") from exc
    labels = host.rstrip(".").split(".")
    if not literal_address(host) and not all(map(HOST_LABEL_RE.fullmatch, labels)):
        raise FetchError("bad_url", f"{host[:200]!r} is not a host name")
    return parts.geturl()


def _refuse_shorthand_ipv4(host: str) -> None:
    labels = host.rstrip(".").split(".")
    if not _looks_numeric(labels[-1]) or literal_address(host):
        return
    address = _whatwg_ipv4(labels)
    if address is None:
        raise FetchError("bad_url", f"{host} is neither a host name nor an IPv4 address")
    if not address_is_public(address):
        raise BlockedAddress(f"{host} is {address} written in shorthand")
    raise FetchError("bad_url", f"{host} is {address} written in shorthand; write {address}")


def _looks_numeric(label: str) -> bool:
    return label.isdigit() or (label[:2].lower() == "0x" and _number(label) is not None)


def _number(part: str) -> int | None:
    """One part of an IPv4 address as browsers read it: 0x hex, leading-0 octal, decimal."""
    lowered = part.lower()
    base, digits = (16, lowered[2:]) if lowered.startswith("0x") else (10, lowered)
    if base == 10 and len(digits) > 1 and digits.startswith("0"):
        base, digits = 8, digits[1:]
    try:
        return int(digits or "0", base)
    except ValueError:
        return None


def _whatwg_ipv4(labels: list[str]) -> str | None:
    numbers = [_number(label) for label in labels]
    if not 1 <= len(numbers) <= 4 or None in numbers:
        return None
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last + sum(n << (8 * (3 - i)) for i, n in enumerate(head))
    return str(ipaddress.IPv4Address(value))


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


def host_refuse_private(host: str, *, resolver: Resolver, policy: AddressPolicy) -> None:
    """Raise BlockedAddress if `host` resolves to an address `policy` refuses.

    For hosts saved now and connected to later (mail servers): a name that does not
    resolve yet is let through, since the connection will fail on its own.
    """
    try:
        resolve_allowed(host, resolver=resolver, policy=policy)
    except BlockedAddress:
        raise
    except FetchError:
        return


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "netguard_deadline", default=None
)


@contextlib.contextmanager
def deadline(at: float) -> Iterator[None]:
    """Guarded connections opened or used inside give up at `at` (`time.monotonic()`).

    Past it, an operation raises httpcore's ConnectTimeout/ReadTimeout/WriteTimeout,
    which httpx turns into its own timeout errors. Nested scopes keep the earlier one.
    """
    current = _deadline.get()
    token = _deadline.set(at if current is None else min(at, current))
    try:
        yield
    finally:
        _deadline.reset(token)


def _time_left(timeout: float | None, error: type[Exception]) -> float | None:
    at = _deadline.get()
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise error("deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A network stream whose every operation ends by the current `deadline()`."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _time_left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = _time_left(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


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
        left = _time_left(timeout, httpcore.ConnectTimeout)
        stream = self.inner.connect_tcp(addresses[0], port, left, local_address, socket_options)
        return DeadlineStream(stream)

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
