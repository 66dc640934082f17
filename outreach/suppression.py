"""The suppression list: addresses and whole domains that must never be e-mailed."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, Expression, Q, Value
from django.db.models.functions import Lower, StrIndex, Substr

from crm.enrollments import enrollments_stop
from jengu.sql import fetch_row
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


# Plain SQL: it runs before every compose and every send (jengu/sql.py).
_SUPPRESSED_SQL = f"SELECT 1 FROM {Suppression._meta.db_table} WHERE value = ANY(%s) LIMIT 1"  # noqa: S608 - table name from the model


def is_suppressed(email: str) -> bool:
    """True if the address or its domain is on the suppression list."""
    address = email.strip().lower()
    if not address:
        return False
    return fetch_row(_SUPPRESSED_SQL, [[address, _domain_of(address)]]) is not None


def suppressed_exists(email: Expression) -> Exists:
    """SQL twin of `is_suppressed` for querysets: `email` is an outer-query expression.

    The batch filters thousands of enrollments with it in one query.
    """
    address = Lower(email)
    domain = Substr(address, StrIndex(address, Value("@")) + 1)
    return Exists(Suppression.objects.filter(Q(value=address) | Q(value=domain)))


def prospects_suppress(*, prospects: Iterable, reason: str, source: str) -> int:
    """Suppress each prospect's address and stop its active sequences; return how many."""
    count = 0
    for prospect in prospects:
        if not prospect.email:
            continue
        suppression_add(
            value=prospect.email, kind=Suppression.Kind.EMAIL, reason=reason, source=source
        )
        enrollments_stop(prospect=prospect, reason=f"suppressed: {reason}")
        count += 1
    return count
