"""DNS zones for deliverability tests: the records a well-set-up sending domain publishes,
served by jengu.dns.StaticResolver (the resolver interface the checks use)."""

from __future__ import annotations

from functools import cache
from http.server import BaseHTTPRequestHandler

from jengu.dns import StaticResolver
from outreach.sending.dkim import dns_record_for, private_key_generate
from tests.fakes.loopback import LoopbackHTTPServer

SELECTOR = "jengu"


@cache
def signing_key(bits: int = 2048) -> str:
    return private_key_generate(bits)


def good_zone(domain: str, *, relay: str = "127.0.0.1", **overrides: list[str]) -> dict:
    """TXT, MX and address tables of a domain whose SPF allows `relay` and whose DKIM
    key (selector "jengu") is `signing_key()`. `overrides` replace TXT entries by name
    (use "" for the domain itself)."""
    txt = {
        domain: ["google-site-verification=abc", f"v=spf1 ip4:{relay} ~all"],
        f"{SELECTOR}._domainkey.{domain}": [dns_record_for(signing_key())],
        f"_dmarc.{domain}": [f"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}"],
    }
    for name, records in overrides.items():
        txt[name or domain] = records
    return {
        "txt": txt,
        "mx": {domain: [(10, f"mx.{domain}")]},
        "addresses": {f"mx.{domain}": ["192.0.2.25"], "relay.test": [relay]},
    }


def resolver_for(*zones: dict, timeouts: set[str] | None = None) -> StaticResolver:
    merged: dict[str, dict] = {"txt": {}, "mx": {}, "addresses": {}}
    for zone in zones:
        for table, entries in zone.items():
            merged[table].update(entries)
    return StaticResolver(
        addresses=merged["addresses"], mx=merged["mx"], txt=merged["txt"], timeouts=timeouts
    )


def dkim_dns(resolver: StaticResolver):
    """A dnsfunc for dkimpy's verifier that reads the same tables (bytes in, bytes out)."""

    def lookup(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            records = resolver.txt(name.decode().rstrip("."))
        except Exception:  # noqa: BLE001 - dkimpy expects None for "no record"
            return None
        return records[0].encode() if records else None

    return lookup


class PolicyServer(LoopbackHTTPServer):
    """Serves MTA-STS policies: `policies[domain] = text` at /<domain>."""

    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        super().__init__()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = server.policies.get(self.path.strip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write((body or "not found").encode())

            def log_message(self, *args) -> None:
                pass

        return Handler
