"""Did the sender of a reply prove who they are? Read from OUR receiving server's verdict.

Anyone can write `From: anna@hotel.example`. What an attacker cannot fake is the
Authentication-Results header (RFC 8601) our own receiving server adds on top of
the message after checking SPF, DKIM and DMARC. We believe exactly one header:
the topmost Authentication-Results, and only when its authserv-id is one of
INBOUND_TRUSTED_AUTHSERV_IDS (e.g. `mx.google.com`). Headers further down were
written before our server saw the message, by whoever sent it. The sender counts
as authenticated when DMARC passed for the From domain, or DKIM or SPF passed for
a domain aligned with it (the same domain or a parent/subdomain of it).
"""

from __future__ import annotations

from dataclasses import dataclass

import authres
from django.conf import settings

MAX_HEADER_CHARS = 8192


@dataclass(frozen=True)
class SenderAuth:
    authenticated: bool
    why: str


def _aligned(domain: str, from_domain: str) -> bool:
    domain = domain.strip().lower().lstrip("@").rpartition("@")[2]
    return bool(domain) and (
        domain == from_domain
        or from_domain.endswith("." + domain)
        or domain.endswith("." + from_domain)
    )


def _passing_domain(result: authres.core.AuthenticationResult) -> str:
    """The domain a passing result vouches for (header.from, header.d/i, smtp.mailfrom)."""
    wanted = {
        "dmarc": ("header", "from"),
        "dkim": ("header", "d"),
        "spf": ("smtp", "mailfrom"),
    }.get(result.method)
    for prop in result.properties:
        if (prop.type, prop.name) == wanted or (result.method, prop.name) == ("dkim", "i"):
            return str(prop.value)
    return ""


def sender_auth(*, results_headers: list[str], from_email: str) -> SenderAuth:
    """Whether our receiving server authenticated `from_email`, and why we think so."""
    trusted = {value.strip().lower() for value in settings.INBOUND_TRUSTED_AUTHSERV_IDS if value}
    if not trusted:
        return SenderAuth(False, "no trusted receiving server configured")
    if not results_headers:
        return SenderAuth(False, "no Authentication-Results header")
    try:
        header = authres.AuthenticationResultsHeader.parse_value(
            results_headers[0][:MAX_HEADER_CHARS]
        )
    except authres.AuthResError as exc:
        return SenderAuth(False, f"unreadable Authentication-Results: {type(exc).__name__}")
    server = (header.authserv_id or "").lower()
    if server not in trusted:
        return SenderAuth(False, f"topmost Authentication-Results is from {server!r}, not trusted")
    from_domain = from_email.rpartition("@")[2].lower()
    for result in header.results:
        if result.method in ("dmarc", "dkim", "spf") and result.result.lower() == "pass":
            domain = _passing_domain(result)
            if _aligned(domain, from_domain):
                return SenderAuth(True, f"{server}: {result.method}=pass for {domain}")
    return SenderAuth(False, f"{server}: no passing DMARC/DKIM/SPF aligned with {from_domain}")
