"""Outbound connections that never reach what they should not.

Everything Jengu fetches from an address a stranger chose (prospects' websites,
webhook receivers an integrator registers) connects through `GuardedBackend`, which
resolves the host itself, refuses loopback/private/link-local/multicast/reserved
addresses and then connects to the address it checked. Because the check sits where
the socket is opened, it covers every redirect hop and leaves no window for DNS
rebinding between "check" and "connect". Mail hosts typed into an inbox are checked
with `host_refuse_private` when they are saved.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import httpcore
import httpx
from django.conf import settings

from jengu.dns import DnsError, Resolver


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
