"""The suppression list: addresses and whole domains that must never be e-mailed."""

from __future__ import annotations

from collections.abc import Iterable

from outreach.models import Suppression


def _domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()


def suppression_add(*, value: str, kind: str, reason: str = "", source: str = "") -> Suppression:
    """Suppress an address or a domain; adding one that exists keeps the first reason."""
    if kind not in Suppression.Kind.values:
        raise ValueError(f"unknown suppression kind {kind!r}")
    normalised = value.strip().lower()
    if kind == Suppression.Kind.DOMAIN:
        normalised = normalised.lstrip("@")
    suppression, _ = Suppression.objects.get_or_create(
        value=normalised, defaults={"kind": kind, "reason": reason[:255], "source": source[:64]}
    )
    return suppression


def is_suppressed(email: str) -> bool:
    """True if the address or its domain is on the suppression list."""
    address = email.strip().lower()
    if not address:
        return False
    return Suppression.objects.filter(value__in=[address, _domain_of(address)]).exists()


def suppressed_among(emails: Iterable[str]) -> set[str]:
    """The subset of `emails` (lower-cased) that is suppressed, in one query."""
    addresses = {email.strip().lower() for email in emails if email}
    values = addresses | {_domain_of(address) for address in addresses}
    hits = set(Suppression.objects.filter(value__in=values).values_list("value", flat=True))
    return {address for address in addresses if address in hits or _domain_of(address) in hits}


def prospects_suppress(*, prospects: Iterable, reason: str, source: str) -> int:
    """Suppress each prospect's address and stop its active sequences; return how many."""
    from crm.models import Enrollment

    count = 0
    for prospect in prospects:
        if not prospect.email:
            continue
        suppression_add(
            value=prospect.email, kind=Suppression.Kind.EMAIL, reason=reason, source=source
        )
        Enrollment.objects.filter(
            prospect=prospect, status__in=[Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED]
        ).update(status=Enrollment.Status.STOPPED, stop_reason=f"suppressed: {reason}"[:255])
        count += 1
    return count
