"""Reads for the admin and dashboard: provider breakers, call statistics, who wrote what."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, Q, QuerySet

from jengu.metrics import day_series
from jengu.redis_helpers import CircuitBreaker, all_breakers
from jengu.redis_helpers.breaker import BreakerState
from outreach.ai.gateway import ai_providers
from outreach.ai.hold import ProviderHold
from outreach.models import AICall

BREAKER_PREFIX = "ai:"


def ai_breakers() -> list[BreakerState]:
    """Every configured provider's breaker, plus any other AI breaker that has tripped."""
    names = {f"{BREAKER_PREFIX}{provider.name}" for provider in ai_providers()}
    tripped = all_breakers()
    states = {state.name: state for state in tripped if state.name.startswith(BREAKER_PREFIX)}
    for name in names - states.keys():
        states[name] = CircuitBreaker(name).snapshot()
    return [states[name] for name in sorted(states)]


@dataclass(frozen=True)
class ProviderState:
    breaker: BreakerState
    held_seconds: int  # how long a 429 still keeps the provider busy (0: not held)


def ai_provider_states() -> list[ProviderState]:
    """Each AI breaker with its provider's rate-limit hold, for the admin."""
    return [ProviderState(b, round(ProviderHold(b.name).remaining())) for b in ai_breakers()]


@dataclass(frozen=True)
class ProviderStats:
    provider: str
    calls: int
    successes: int
    avg_latency_ms: float

    @property
    def success_rate(self) -> float:
        return self.successes / self.calls if self.calls else 0.0


def ai_call_stats(*, since: datetime, purpose: str | None = None) -> list[ProviderStats]:
    """Calls, successes and mean latency per provider since `since` (one query)."""
    calls: QuerySet[AICall] = AICall.objects.filter(created_at__gte=since)
    if purpose:
        calls = calls.filter(purpose=purpose)
    rows = (
        calls.values("provider")
        .annotate(
            calls=Count("id"), successes=Count("id", filter=Q(success=True)), avg=Avg("latency_ms")
        )
        .order_by("provider")
    )
    return [
        ProviderStats(row["provider"], row["calls"], row["successes"], float(row["avg"] or 0))
        for row in rows
    ]


@dataclass(frozen=True)
class WriterShare:
    """One writer's part of the e-mails composed: an AI provider, or the template."""

    provider: str
    emails: int
    percent: float
    fallbacks: dict[str, int] = field(default_factory=dict)  # the template's reasons


def compose_shares(*, days: int, today: date) -> list[WriterShare]:
    """Who wrote the e-mails composed in the `days` days up to `today`, most first.

    Read from the `emails_composed` counters (one Redis read per day), the same
    numbers `/metrics` exports.
    """
    emails: Counter[str] = Counter()
    fallbacks: Counter[str] = Counter()
    for series in day_series(today - timedelta(days=back) for back in range(days)).values():
        emails.update(series.by_label("emails_composed", "provider"))
        fallbacks.update(series.by_label("emails_composed", "fallback", provider="template"))
    total = sum(emails.values())
    return [
        WriterShare(
            provider,
            n,
            round(100 * n / total, 1),
            dict(fallbacks) if provider == "template" else {},
        )
        for provider, n in emails.most_common()
    ]
