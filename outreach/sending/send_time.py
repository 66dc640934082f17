"""Send-time optimisation: which two-hour slot of the prospect's week gets human replies,
and planning first touches into those slots.

An arm is (prospect's timezone, industry or "", slot), a slot being a weekday class
and a two-hour block of local time, e.g. "midweek:10" = Tuesday–Thursday 10:00–11:59
where the prospect is (zoneinfo, so DST moves with the prospect). Each arm's reply
probability has a Beta posterior whose prior is pooled: the slot's rate across all
zones and industries (itself shrunk towards the overall rate), worth
SEND_TIME_PRIOR_STRENGTH observations. A new zone therefore starts from what every
other zone taught, and its own replies take over as they come.

Thompson sampling draws one probability per candidate slot and sends in the slot
with the highest draw: slots that look good get most sends, uncertain ones keep
getting a few, so a wrong early belief corrects itself.

The send batch asks `send_time_plan_batch` about the first touches it is about to
claim. Each gets one `SendTimeAssignment`: a random holdout share keeps the
window's plain schedule (it goes now), the rest are moved to a sampled slot.
Deliverability settles the outcomes and reports the lift
(outreach/deliverability/send_time_services.py).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, IntegerField, Sum
from django.db.models.functions import Cast

from crm.models import Campaign, Enrollment
from outreach.bayes import Counts
from outreach.deliverability_models import CampaignOptimisation, SendTimeAssignment

from .windows import prospect_zone, window_check

WEEKDAY_CLASS = ("mon", "midweek", "midweek", "midweek", "fri", "weekend", "weekend")
SLOT_HOURS = 2


def slot_of(local: datetime) -> str:
    """The slot of a local time: "<weekday class>:<first hour of its two-hour block>"."""
    return f"{WEEKDAY_CLASS[local.weekday()]}:{local.hour // SLOT_HOURS * SLOT_HOURS:02d}"


ArmKey = tuple[str, str, str]  # (zone, industry, slot)


@dataclass
class SlotModel:
    """Reply counts per arm, pooled per slot and overall; posteriors and draws."""

    arms: dict[ArmKey, Counts] = field(default_factory=lambda: defaultdict(Counts))
    prior_strength: float = 20.0

    def __post_init__(self) -> None:
        self.arms = defaultdict(Counts, self.arms)
        self._pooled: dict[str, Counts] = defaultdict(Counts)
        self._overall = Counts()
        for (_, _, slot), counts in self.arms.items():
            self._pooled[slot].add(counts.replies, counts.sends)
            self._overall.add(counts.replies, counts.sends)

    def observe(self, arm: ArmKey, replied: bool) -> None:
        for counts in (self.arms[arm], self._pooled[arm[2]], self._overall):
            counts.add(int(replied), 1)

    def _slot_mean(self, slot: str) -> float:
        overall = (self._overall.replies + 1) / (self._overall.sends + 2)
        pooled = self._pooled[slot]
        strength = self.prior_strength
        return (pooled.replies + strength * overall) / (pooled.sends + strength)

    def posterior(self, arm: ArmKey) -> tuple[float, float]:
        """Beta(alpha, beta) of the arm's reply probability."""
        mean = self._slot_mean(arm[2])
        own = self.arms.get(arm, Counts())
        alpha = self.prior_strength * mean + own.replies
        beta = self.prior_strength * (1 - mean) + own.sends - own.replies
        return alpha, beta

    def choose(self, arms: Iterable[ArmKey], rng: random.Random) -> ArmKey:
        """Thompson sampling: the arm whose posterior draw is highest."""
        return max(arms, key=lambda arm: rng.betavariate(*self.posterior(arm)))


def candidate_slots(
    *, now: datetime, zone: ZoneInfo, is_open, days: int = 7
) -> dict[str, datetime]:
    """Each slot of the coming `days` whose window is open at some hour, with the first
    such instant (aware, UTC). `is_open(instant)` is the campaign window's check."""
    found: dict[str, datetime] = {}
    start = now.replace(minute=0, second=0, microsecond=0)
    for hours in range(days * 24):
        instant = max(start + timedelta(hours=hours), now)
        slot = slot_of(instant.astimezone(zone))
        if slot not in found and is_open(instant):
            found[slot] = instant
    return found


# Two weeks: a narrow window (one weekday) may lose a whole week to a public holiday.
HORIZON_DAYS = 14


def campaign_optimisation(*, campaign: Campaign) -> CampaignOptimisation:
    """The campaign's settings row, or the defaults (not saved) when it has none."""
    found = CampaignOptimisation.objects.filter(campaign=campaign).first()
    return found or CampaignOptimisation(campaign=campaign)


def slot_model_load(*, by_industry: bool) -> SlotModel:
    """Settled outcomes of every campaign, per (zone, industry or "", slot)."""
    rows = (
        SendTimeAssignment.objects.filter(replied__isnull=False)
        .exclude(sent_slot="")
        .values("zone", "industry", "sent_slot")
        .annotate(sends=Count("pk"), replies=Sum(Cast("replied", IntegerField())))
    )
    arms: dict = {}
    for row in rows:
        key = (row["zone"], row["industry"] if by_industry else "", row["sent_slot"])
        arms.setdefault(key, Counts()).add(row["replies"] or 0, row["sends"])
    return SlotModel(arms=arms, prior_strength=settings.SEND_TIME_PRIOR_STRENGTH)


@dataclass(frozen=True)
class Plan:
    holdout: bool
    slot: str
    at: datetime


def send_time_plan(
    *,
    enrollment: Enrollment,
    optimisation: CampaignOptimisation,
    model: SlotModel,
    rng: random.Random,
    now: datetime,
) -> Plan:
    """Holdout (go now, as the window allows) or the sampled slot's first open instant."""
    prospect, campaign = enrollment.prospect, optimisation.campaign
    zone = prospect_zone(prospect)
    if rng.random() < optimisation.holdout_share:
        return Plan(True, "", now)
    slots = candidate_slots(
        now=now,
        zone=zone,
        is_open=lambda at: window_check(campaign=campaign, prospect=prospect, at=at).open,
        days=HORIZON_DAYS,
    )
    if not slots:
        return Plan(False, "", now)  # the window never opens this week: the batch decides
    industry = prospect.industry if optimisation.by_industry else ""
    arms = [(str(zone), industry, slot) for slot in slots]
    chosen = model.choose(arms, rng)[2]
    return Plan(False, chosen, slots[chosen])


def send_time_plan_batch(
    *,
    campaign: Campaign,
    enrollments: list[Enrollment],
    now: datetime,
    rng: random.Random | None = None,
) -> dict[int, datetime]:
    """Plan the first touches among `enrollments` that have no plan yet.

    Returns {enrollment id: when it is due instead}, for those whose sampled slot
    is later than now (the caller moves them there); the rest go now.
    """
    first = [e for e in enrollments if e.current_step == 1]
    if not first:
        return {}
    optimisation = campaign_optimisation(campaign=campaign)
    if not optimisation.send_time_enabled:
        return {}
    planned = set(
        SendTimeAssignment.objects.filter(enrollment__in=first).values_list(
            "enrollment_id", flat=True
        )
    )
    todo = [e for e in first if e.pk not in planned]
    if not todo:
        return {}
    model = slot_model_load(by_industry=optimisation.by_industry)
    rng = rng or random.Random()  # noqa: S311 - sampling, not secrets
    later: dict[int, datetime] = {}
    rows = []
    for enrollment in todo:
        plan = send_time_plan(
            enrollment=enrollment, optimisation=optimisation, model=model, rng=rng, now=now
        )
        rows.append(_assignment(enrollment, campaign, plan, optimisation))
        if plan.at > now:
            later[enrollment.pk] = plan.at
    SendTimeAssignment.objects.bulk_create(rows, ignore_conflicts=True)
    return later


def _assignment(
    enrollment: Enrollment, campaign: Campaign, plan: Plan, optimisation: CampaignOptimisation
) -> SendTimeAssignment:
    return SendTimeAssignment(
        enrollment=enrollment,
        campaign=campaign,
        holdout=plan.holdout,
        zone=str(prospect_zone(enrollment.prospect)),
        industry=enrollment.prospect.industry[:128] if optimisation.by_industry else "",
        planned_slot=plan.slot,
        planned_at=plan.at,
    )
