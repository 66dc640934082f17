"""Warm-up caps, per-day slot reservations and human-like pacing per inbox.

A send reserves its slot in Redis (atomic reserve-if-below-cap) before the SMTP
call and gives it back only when nothing left the machine, so the cap holds
under any number of workers and the counter matches the database's count.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from crm.models import Inbox
from jengu.redis_helpers import CounterSeed, DailyCounter, get_redis
from jengu.redis_helpers.client import key
from outreach.models import EmailMessage

from .presets import preset_daily_cap, preset_min_gap

logger = logging.getLogger(__name__)

# Messages that hold a slot without a `sent_at` yet (the SMTP call may be under way).
IN_FLIGHT_STATUSES = ("sending", "uncertain")


def send_day(at: datetime | None = None) -> date:
    """The day a send counts against (UTC: one calendar for every inbox and counter)."""
    return (at or timezone.now()).astimezone(UTC).date()


def _ramp(inbox: Inbox) -> list[int]:
    ramp = inbox.warmup_ramp
    if not isinstance(ramp, list) or not all(isinstance(v, int) and v >= 0 for v in ramp):
        # Admin edits JSON by hand; a bad ramp means "no ramp", never "no limit".
        logger.warning(
            "inbox %s has an invalid warm-up ramp %r; using its hard maximum", inbox.pk, ramp
        )
        return []
    return ramp


def inbox_daily_cap(*, inbox: Inbox, day: date | None = None) -> int:
    """Today's cap: the ramp's value for this warm-up day, never above `daily_limit`
    nor the provider preset's daily maximum."""
    day = day or send_day()
    limit = preset_daily_cap(inbox=inbox)
    if not inbox.warmup_enabled:
        return limit
    ramp = _ramp(inbox)
    index = max((day - inbox.warmup_start).days, 0)
    if index < len(ramp):
        return min(ramp[index], limit)
    return limit


def _counter() -> DailyCounter:
    return DailyCounter("sends:inbox")


def _sends_on_day(day: date) -> models.QuerySet:
    """Outbound sends that took a slot on `day`: sent that day, or still in flight."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    in_flight = models.Q(status__in=IN_FLIGHT_STATUSES, updated_at__gte=start)
    return EmailMessage.objects.filter(direction=EmailMessage.Direction.OUTBOUND).filter(
        models.Q(sent_at__gte=start) | in_flight
    )


def inbox_sent_today(*, inbox: Inbox, day: date | None = None) -> int:
    """Slots taken today (sent plus in flight), as counted in Redis."""
    return _counter().count(inbox.pk, day or send_day())


def inbox_free_today(*, inbox: Inbox, day: date | None = None) -> int:
    day = day or send_day()
    return max(inbox_daily_cap(inbox=inbox, day=day) - inbox_sent_today(inbox=inbox, day=day), 0)


def warmup_reserve(*, inbox: Inbox, day: date) -> bool:
    """Take one of today's slots; False when the inbox is at its cap.

    A missing counter (a new day, or Redis lost its data) starts from the
    database's count, so the cap stays honest in both cases.
    """
    seed = CounterSeed(counts=lambda: {inbox.pk: _sends_on_day(day).filter(inbox=inbox).count()})
    return _counter().reserve(inbox.pk, inbox_daily_cap(inbox=inbox, day=day), day, seed=seed)


def warmup_release(*, inbox: Inbox, day: date) -> None:
    """Give a slot back: the e-mail certainly did not leave."""
    _counter().release(inbox.pk, day)


def _domain_counter() -> DailyCounter:
    return DailyCounter("sends:domain")


def _sends_per_domain(day: date) -> dict[str, int]:
    """Recipient domain -> sends on `day`, in one grouped count.

    Most sends go to a domain not yet e-mailed today, so seeding per domain would
    cost a count (a scan: `LIKE '%@domain'` has no index) on almost every send.
    Instead one grouped count per day, or after Redis lost its data, seeds every
    domain's counter, and the seed's marker then says "a missing counter means zero".
    """
    domain = Lower(
        models.Func(
            models.F("to_email"),
            models.Value("@"),
            models.Value(2),
            function="split_part",
            output_field=models.CharField(),
        )
    )
    counts = _sends_on_day(day).values(domain=domain).annotate(n=models.Count("pk"))
    return {row["domain"]: row["n"] for row in counts}


def domain_reserve(*, domain: str, day: date) -> bool:
    """Take one of today's sends to `domain` (all inboxes together); False at the cap."""
    seed = CounterSeed(
        counts=lambda: _sends_per_domain(day),
        marker=key("count", "sends:domain-seeded", day.isoformat()),
    )
    return _domain_counter().reserve(domain, settings.SEND_MAX_PER_DOMAIN_PER_DAY, day, seed=seed)


def domain_release(*, domain: str, day: date) -> None:
    _domain_counter().release(domain, day)


def _pace_key(inbox: Inbox) -> str:
    return key("pace", "inbox", inbox.pk)


def pacing_reserve(*, inbox: Inbox) -> bool:
    """Claim the inbox's next send; it then rests `min_gap_seconds` (at least what its
    provider preset's per-minute limit needs) plus jitter.

    One `SET NX PX`: the key's lifetime is the rest, so two workers cannot both
    send from the inbox inside one gap.
    """
    gap = preset_min_gap(inbox=inbox)
    if gap <= 0:
        return True
    jitter = random.uniform(0, settings.SEND_PACING_JITTER_SECONDS)  # noqa: S311 - not crypto
    return bool(get_redis().set(_pace_key(inbox), "1", nx=True, px=int((gap + jitter) * 1000)))


def pacing_release(*, inbox: Inbox) -> None:
    """Undo a pacing claim whose send did not happen."""
    get_redis().delete(_pace_key(inbox))


def pacing_wait_seconds(*, inbox: Inbox) -> float:
    """Seconds until the inbox may send again (0 when it is rested)."""
    remaining_ms = get_redis().pttl(_pace_key(inbox))
    return max(remaining_ms, 0) / 1000


@dataclass(frozen=True)
class InboxStatus:
    inbox: Inbox
    cap: int
    sent_today: int
    next_free_in_seconds: float


def warmup_status(*, inboxes: list[Inbox] | None = None) -> list[InboxStatus]:
    """Cap, slots taken today and seconds to the next free slot for each inbox."""
    day = send_day()
    rows = []
    everyone = Inbox.objects.select_related("deliverability").order_by("email")
    for inbox in inboxes if inboxes is not None else everyone:
        cap = inbox_daily_cap(inbox=inbox, day=day)
        sent = inbox_sent_today(inbox=inbox, day=day)
        wait = pacing_wait_seconds(inbox=inbox) if sent < cap else _seconds_to_tomorrow()
        rows.append(InboxStatus(inbox, cap, sent, wait))
    return rows


def _seconds_to_tomorrow() -> float:
    now = timezone.now().astimezone(UTC)
    tomorrow = datetime.combine(send_day(now), datetime.min.time(), tzinfo=UTC)
    return (tomorrow - now).total_seconds() + 86400
