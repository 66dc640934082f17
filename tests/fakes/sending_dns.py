"""DNS for worker and scheduler processes in tests: the factories' sending domain
(`jengu.example`) publishes SPF for loopback relays, so the deliverability checks the
scheduler runs let its inboxes send first touches. Set it with
`ENRICHMENT_DNS_RESOLVER=tests.fakes.sending_dns.SendingDomainResolver`."""

from __future__ import annotations

from jengu.dns import StaticResolver

DOMAIN = "jengu.example"


class SendingDomainResolver(StaticResolver):
    def __init__(self) -> None:
        super().__init__(
            addresses={f"mx.{DOMAIN}": ["127.0.0.1"]},
            mx={DOMAIN: [(10, f"mx.{DOMAIN}")]},
            txt={DOMAIN: ["v=spf1 ip4:127.0.0.0/8 -all"], f"_dmarc.{DOMAIN}": ["v=DMARC1; p=none"]},
        )
