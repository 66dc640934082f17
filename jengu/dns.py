"""DNS lookups behind a small interface, so tests and demos inject their own records.

`settings.ENRICHMENT_DNS_RESOLVER` is a dotted path to a class (instantiated once)
or an object with the two methods of `Resolver`. The default uses dnspython with a
hard lifetime, so a slow name server can never hold a worker.
"""

from __future__ import annotations

import contextlib
from functools import lru_cache
from typing import Protocol

import dns.exception
import dns.resolver
from django.conf import settings
from django.utils.module_loading import import_string


class DnsError(Exception):
    """Base for lookup failures the caller records as a reason."""


class NoSuchDomain(DnsError):
    """NXDOMAIN: the name does not exist."""


class DnsTimeout(DnsError):
    """No answer in time (or no name server answered): the name may still exist."""


class Resolver(Protocol):
    def mx(self, domain: str) -> list[tuple[int, str]]:
        """(preference, host) pairs; host "" for a null MX. Empty list: no MX record."""

    def addresses(self, host: str) -> list[str]:
        """A and AAAA addresses as strings; empty list: the name has none."""

    def txt(self, name: str) -> list[str]:
        """TXT records, each one's strings joined (RFC 7208 3.3); empty list: none."""


class DnsPythonResolver:
    def __init__(self, lifetime: float | None = None) -> None:
        self.resolver = dns.resolver.Resolver()
        self.resolver.lifetime = lifetime or settings.ENRICHMENT_DNS_TIMEOUT

    def _answer(self, name: str, rdtype: str) -> list:
        try:
            return list(self.resolver.resolve(name, rdtype))
        except dns.resolver.NXDOMAIN as exc:
            raise NoSuchDomain(name) from exc
        except dns.resolver.NoAnswer:
            return []
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise DnsTimeout(f"{name} {rdtype}: {type(exc).__name__}") from exc
        except dns.exception.DNSException as exc:
            raise DnsError(f"{name} {rdtype}: {type(exc).__name__}") from exc

    def mx(self, domain: str) -> list[tuple[int, str]]:
        records = self._answer(domain, "MX")
        return sorted((r.preference, r.exchange.to_text().rstrip(".")) for r in records)

    def addresses(self, host: str) -> list[str]:
        found = [r.to_text() for r in self._answer(host, "A")]
        # Many small hosts' name servers drop AAAA queries; A is enough.
        with contextlib.suppress(DnsTimeout):
            found += [r.to_text() for r in self._answer(host, "AAAA")]
        return found

    def txt(self, name: str) -> list[str]:
        # dnspython follows a CNAME (Microsoft 365 publishes DKIM keys behind one).
        records = self._answer(name, "TXT")
        return [b"".join(r.strings).decode("utf-8", "replace") for r in records]


class StaticResolver:
    """Answers from tables, for tests and the local demo; unknown names do not exist.

    `timeouts` lists names whose lookups time out, to exercise that path.
    """

    def __init__(
        self,
        addresses: dict[str, list[str]] | None = None,
        mx: dict[str, list[tuple[int, str]]] | None = None,
        timeouts: set[str] | None = None,
        txt: dict[str, list[str]] | None = None,
    ) -> None:
        self.address_table = {k.lower(): v for k, v in (addresses or {}).items()}
        self.mx_table = {k.lower(): v for k, v in (mx or {}).items()}
        self.txt_table = {k.lower(): v for k, v in (txt or {}).items()}
        self.timeouts = {name.lower() for name in timeouts or ()}

    def _check(self, name: str) -> str:
        name = name.lower().rstrip(".")
        if name in self.timeouts:
            raise DnsTimeout(f"{name}: timed out")
        if not any(name in table for table in (self.address_table, self.mx_table, self.txt_table)):
            raise NoSuchDomain(name)
        return name

    def mx(self, domain: str) -> list[tuple[int, str]]:
        return sorted(self.mx_table.get(self._check(domain), []))

    def addresses(self, host: str) -> list[str]:
        return list(self.address_table.get(self._check(host), []))

    def txt(self, name: str) -> list[str]:
        return list(self.txt_table.get(self._check(name), []))


@lru_cache(maxsize=8)
def _resolver_from_path(path: str) -> Resolver:
    return import_string(path)()


def get_resolver() -> Resolver:
    configured = settings.ENRICHMENT_DNS_RESOLVER
    if isinstance(configured, str):
        return _resolver_from_path(configured)
    return configured
