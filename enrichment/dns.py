"""The resolver's old home, kept so `ENRICHMENT_DNS_RESOLVER` values in existing `.env`
files (`enrichment.dns.DnsPythonResolver`) still load; the code lives in `jengu.dns`."""

from jengu.dns import DnsPythonResolver

__all__ = ["DnsPythonResolver"]
