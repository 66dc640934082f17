"""Is an address worth sending to? Local checks first, then MillionVerifier if configured.

Local checks: syntax and normalisation (`email-validator`), MX (or the implicit
A/AAAA fallback of RFC 5321) through the injectable resolver, disposable domains
(`disposable-email-domains`) and role accounts. MillionVerifier, when a key is
set, goes through the provider base's breaker and token bucket; when it is off,
down or refusing, the local verdict stands and says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS
from django.conf import settings
from email_validator import EmailNotValidError, validate_email

from crm.models import EmailStatus
from enrichment.emails import GENERIC_LOCALS, ROLE_LOCALS
from enrichment.providers import Provider, ProviderRejected, ProviderUnavailable
from jengu.dns import DnsError, DnsTimeout, NoSuchDomain, Resolver

# MillionVerifier `result` -> our email_status.
MV_STATUS = {
    "ok": EmailStatus.VALID,
    "catch_all": EmailStatus.CATCH_ALL,
    "unknown": EmailStatus.RISKY,
    "invalid": EmailStatus.INVALID,
    "disposable": EmailStatus.INVALID,
}


@dataclass
class ValidationResult:
    email: str
    status: str  # an EmailStatus value
    method: str  # "local" | "millionverifier"
    reason: str
    checks: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def local_checks(email: str, *, resolver: Resolver) -> ValidationResult:
    """Syntax, domain, MX, disposable and role checks; no mailbox is contacted."""
    try:
        normalized = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return ValidationResult(email, EmailStatus.INVALID, "local", f"syntax: {exc}")
    local, _, domain = normalized.rpartition("@")
    checks = {"normalized": normalized, "role": local in ROLE_LOCALS | GENERIC_LOCALS}
    checks["disposable"] = domain in DISPOSABLE_DOMAINS
    if checks["disposable"]:
        return ValidationResult(
            normalized, EmailStatus.INVALID, "local", "disposable domain", checks
        )
    status, reason = mail_exchange_verdict(domain, resolver=resolver, checks=checks)
    return ValidationResult(normalized, status, "local", reason, checks)


def mail_exchange_verdict(domain: str, *, resolver: Resolver, checks: dict) -> tuple[str, str]:
    try:
        mx = resolver.mx(domain)
        checks["mx"] = [host for _, host in mx]
        if mx and all(host in ("", ".") for _, host in mx):
            return EmailStatus.INVALID, "domain accepts no mail (null MX)"
        if not mx:
            # RFC 5321: without MX records, mail goes to the domain's own address.
            checks["a"] = resolver.addresses(domain)
            if not checks["a"]:
                return EmailStatus.INVALID, "domain has no MX and no address"
    except NoSuchDomain:
        return EmailStatus.INVALID, "domain does not exist"
    except DnsTimeout:
        return EmailStatus.UNKNOWN, "DNS did not answer in time"
    except DnsError as exc:
        return EmailStatus.UNKNOWN, f"DNS error: {exc}"
    return EmailStatus.VALID, "domain receives mail; mailbox not verified"


class MillionVerifier(Provider):
    name = "millionverifier"
    timeout = 25.0  # MillionVerifier itself may take up to the `timeout` we pass (10 s)

    def verify(self, email: str) -> tuple[str, dict]:
        """(email_status, raw fields) for one address; raises ProviderUnavailable/Rejected."""
        response = self.get("/api/v3/", params={"api": self.api_key, "email": email, "timeout": 10})
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderUnavailable(self.name, "unreadable answer") from exc
        if data.get("error"):
            raise ProviderRejected(f"{self.name}: {data['error']}"[:200])
        result = str(data.get("result", "")).lower()
        if result not in MV_STATUS:
            raise ProviderUnavailable(self.name, f"could not verify (result {result or 'empty'})")
        raw = {k: data.get(k) for k in ("result", "subresult", "quality", "free", "role")}
        return MV_STATUS[result], raw


def get_verifier() -> MillionVerifier | None:
    if not settings.MILLIONVERIFIER_API_KEY:
        return None
    return MillionVerifier(
        base_url=settings.MILLIONVERIFIER_BASE_URL,
        api_key=settings.MILLIONVERIFIER_API_KEY,
        rate_per_second=settings.MILLIONVERIFIER_RATE_PER_SECOND,
    )


def verify_address(
    email: str, *, resolver: Resolver, verifier: MillionVerifier | None, fallback_to_local: bool
) -> ValidationResult:
    """Local verdict, refined by MillionVerifier when it is configured and answering.

    With `fallback_to_local=False` an unavailable provider raises instead, so the
    caller (an actor with retries left) can try again later.
    """
    local = local_checks(email, resolver=resolver)
    if local.status == EmailStatus.INVALID:
        return local  # no need to spend a verification credit
    if verifier is None:
        local.checks["provider"] = "off: no MILLIONVERIFIER_API_KEY"
        return local
    try:
        status, raw = verifier.verify(local.email)
    except ProviderUnavailable as exc:
        if not fallback_to_local and exc.reason != "circuit open":
            raise
        local.checks["provider"] = f"unavailable: {exc.reason}"
        local.reason += f" (local verdict: MillionVerifier {exc.reason})"
        return local
    except ProviderRejected as exc:
        local.checks["provider"] = f"refused: {exc}"
        local.reason += " (local verdict: MillionVerifier refused the request)"
        return local
    checks = {**local.checks, "provider": raw}
    reason = f"MillionVerifier: {raw['result']}" + (
        f" ({raw['subresult']})" if raw.get("subresult") else ""
    )
    return ValidationResult(local.email, status, "millionverifier", reason, checks)
