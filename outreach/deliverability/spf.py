"""SPF (RFC 7208) read from DNS: the record, its DNS-lookup count and the networks it allows.

Receivers stop evaluating at 10 DNS-querying terms (include, a, mx, ptr, exists,
redirect) and at 2 lookups that find nothing ("void"), and then the whole record
fails (permerror): a domain that keeps adding includes breaks SPF for every e-mail
without noticing. So the count is walked the way receivers walk it, through every
include and redirect, with a loop guard.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from jengu.dns import DnsError, DnsTimeout, NoSuchDomain, Resolver

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
_LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists", "redirect")
# Hosts an MX mechanism may name before it is an error (RFC 7208 4.6.4).
MX_HOST_LIMIT = 10
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class SpfResult:
    record: str = ""
    lookups: int = 0
    void_lookups: int = 0
    all_qualifier: str = ""  # of the top record: "-", "~", "?", "+" or "" (none)
    includes: list[str] = field(default_factory=list)  # every included/redirected domain
    networks: list[Network] = field(default_factory=list)
    # Terms whose outcome depends on the connecting host (ptr, exists, macros).
    unresolvable: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def allows(self, address: str) -> bool:
        ip = ipaddress.ip_address(address)
        return any(ip.version == net.version and ip in net for net in self.networks)


def spf_records(resolver: Resolver, domain: str) -> list[str]:
    return [
        text.strip()
        for text in resolver.txt(domain)
        if text.strip().lower() == "v=spf1" or text.strip().lower().startswith("v=spf1 ")
    ]


def spf_evaluate(*, resolver: Resolver, domain: str) -> SpfResult | None:
    """The domain's SPF, expanded; None when it publishes none. Never raises for DNS."""
    try:
        records = spf_records(resolver, domain)
    except NoSuchDomain:
        return None
    if not records:
        return None
    result = SpfResult(record=records[0])
    if len(records) > 1:
        result.errors.append(f"{len(records)} SPF records: receivers treat that as an error")
    _walk(resolver, domain, records[0], result, seen={domain.lower()}, top=True)
    return result


def _walk(
    resolver: Resolver, domain: str, record: str, result: SpfResult, *, seen: set, top: bool
) -> None:
    """Walk one record's terms; `top` is the domain's own record (or its redirect)."""
    redirect, has_all = "", False
    for term in record.split()[1:]:
        if result.lookups > LOOKUP_LIMIT:
            return
        qualifier, name, value = _split(term)
        if name == "redirect":
            redirect = value
        elif name == "all":
            has_all = True
            if top:
                result.all_qualifier = qualifier
        else:
            if name in _LOOKUP_TERMS:
                result.lookups += 1
            # Only what a record allows matters for "may our relay send".
            if qualifier not in ("-", "~"):
                _term(resolver, domain, name, value, result, seen)
    if redirect and not has_all:
        result.lookups += 1
        _include(resolver, redirect, result, seen, top=top)


def _split(term: str) -> tuple[str, str, str]:
    qualifier = term[0] if term[0] in "+-~?" else "+"
    body = term.lstrip("+-~?")
    for separator in (":", "=", "/"):
        name, found, value = body.partition(separator)
        if found:
            return qualifier, name.lower(), (separator + value if separator == "/" else value)
    return qualifier, body.lower(), ""


def _term(
    resolver: Resolver, domain: str, name: str, value: str, result: SpfResult, seen: set
) -> None:
    if "%{" in value:
        result.unresolvable.append(f"{name}:{value}")
        return
    if name in ("ip4", "ip6"):
        _add_network(value, result)
    elif name == "include":
        _include(resolver, value, result, seen)
    elif name == "a":
        target, cidr = _target(value, domain)
        _add_addresses(resolver, target, cidr, result)
    elif name == "mx":
        target, cidr = _target(value, domain)
        for _, host in _lookup(resolver.mx, target, result)[:MX_HOST_LIMIT]:
            if host:
                _add_addresses(resolver, host, cidr, result)
    elif name in ("ptr", "exists"):
        result.unresolvable.append(f"{name}:{value}" if value else name)


def _target(value: str, domain: str) -> tuple[str, str]:
    target, _, cidr = value.partition("/")
    if value.startswith("/"):
        return domain, value[1:]
    return target or domain, cidr


def _add_network(value: str, result: SpfResult) -> None:
    try:
        result.networks.append(ipaddress.ip_network(value, strict=False))
    except ValueError:
        result.errors.append(f"not an address or network: {value}")


def _add_addresses(resolver: Resolver, host: str, cidr: str, result: SpfResult) -> None:
    for address in _lookup(resolver.addresses, host, result):
        ip = ipaddress.ip_address(address)
        bits = cidr.partition("//")[0] if ip.version == 4 else cidr.partition("//")[2]
        _add_network(f"{address}/{bits}" if bits else address, result)


def _lookup(query, name: str, result: SpfResult) -> list:
    try:
        found = query(name)
    except NoSuchDomain:
        found = []
    except (DnsTimeout, DnsError) as exc:
        result.errors.append(f"DNS lookup failed: {exc}")
        return []
    if not found:
        result.void_lookups += 1
    return found


def _include(
    resolver: Resolver, domain: str, result: SpfResult, seen: set, *, top: bool = False
) -> None:
    domain = domain.lower().rstrip(".")
    result.includes.append(domain)
    if domain in seen:
        result.errors.append(f"{domain} includes itself (a loop)")
        return
    records = _lookup(lambda name: spf_records(resolver, name), domain, result)
    if not records:
        result.errors.append(f"{domain} (included) publishes no SPF record")
        return
    _walk(resolver, domain, records[0], result, seen=seen | {domain}, top=top)
