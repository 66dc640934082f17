"""Send-time optimisation against the database: planning first touches, settling outcomes,
and the campaign's report (the learned slots and the lift over the holdout).

The send batch asks `send_time_plan_batch` about the first touches it is about to
claim. Each gets one `SendTimeAssignment`: a random holdout share keeps the
window's plain schedule (it goes now), the rest are moved to a sampled slot.
Outcomes are settled SEND_TIME_REPLY_WINDOW_HOURS after the e-mail went: a human
reply (not an auto-reply, bounce or complaint) in that time is a success; a first
touch that never went (bounced, refused, sequence stopped) is left out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast
from django.utils import timezone

from crm.models import Campaign, Enrollment
from outreach.models import EmailMessage, InboundEmail
from outreach.sending.windows import prospect_zone, window_check, zone_named

from .bayes import Lift, lift_estimate
from .models import CampaignOptimisation, SendTimeAssignment
from .send_time import Counts, SlotModel, candidate_slots, slot_of

Label = InboundEmail.Label
# A person wrote back (whatever they said); auto-replies, bounces and complaints did not.
HUMAN_LABELS = (
    Label.INTERESTED,
    Label.MEETING,
    Label.NOT_INTERESTED,
    Label.QUESTION,
    Label.UNSUBSCRIBE,
    Label.OTHER,
)
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


# --- Settling outcomes --------------------------------------------------------------

Status = EmailMessage.Status
_FIRST_TOUCH = EmailMessage.objects.filter(
    enrollment_id=OuterRef("enrollment_id"), step=1, direction=EmailMessage.Direction.OUTBOUND
)
_NEVER_WENT = [Status.BOUNCED, Status.FAILED, Status.REJECTED]


def _record_sent_times() -> int:
    """Copy each unsettled first touch's send time (and its slot) onto its assignment."""
    rows = (
        SendTimeAssignment.objects.filter(settled_at__isnull=True, sent_at__isnull=True)
        .annotate(
            first_sent=Subquery(_FIRST_TOUCH.filter(status=Status.SENT).values("sent_at")[:1])
        )
        .filter(first_sent__isnull=False)
    )
    updated = 0
    for assignment in rows.iterator(chunk_size=500):
        local = assignment.first_sent.astimezone(zone_named(assignment.zone))
        SendTimeAssignment.objects.filter(pk=assignment.pk).update(
            sent_at=assignment.first_sent, sent_slot=slot_of(local)
        )
        updated += 1
    return updated


def _human_reply() -> Exists:
    window = timedelta(hours=settings.SEND_TIME_REPLY_WINDOW_HOURS)
    return Exists(
        InboundEmail.objects.filter(
            prospect_id=OuterRef("enrollment__prospect_id"),
            label__in=HUMAN_LABELS,
            received_at__gte=OuterRef("sent_at"),
            received_at__lte=OuterRef("sent_at") + window,
        )
    )


def send_time_settle(*, now: datetime | None = None) -> dict[str, int]:
    """Settle every first touch whose outcome is known; how many of each."""
    now = now or timezone.now()
    done = {"sent": _record_sent_times()}
    pending = SendTimeAssignment.objects.filter(settled_at__isnull=True)
    replied = pending.filter(sent_at__isnull=False).annotate(human=_human_reply())
    done["replied"] = replied.filter(human=True).update(replied=True, settled_at=now)
    cutoff = now - timedelta(hours=settings.SEND_TIME_REPLY_WINDOW_HOURS)
    done["no_reply"] = pending.filter(sent_at__lte=cutoff).update(replied=False, settled_at=now)
    never = Exists(_FIRST_TOUCH.filter(status__in=_NEVER_WENT))
    stopped = Q(enrollment__status__in=[Enrollment.Status.STOPPED, Enrollment.Status.REPLIED])
    done["left_out"] = (
        pending.filter(sent_at__isnull=True)
        .filter(Q(never) | (stopped & ~Exists(_FIRST_TOUCH)))
        .update(settled_at=now)
    )
    return done


# --- Reports --------------------------------------------------------------------------


def _group_counts(campaign: Campaign) -> dict[bool, Counts]:
    rows = (
        SendTimeAssignment.objects.filter(campaign=campaign, replied__isnull=False)
        .values("holdout")
        .annotate(sends=Count("pk"), replies=Count("pk", filter=Q(replied=True)))
    )
    groups = {True: Counts(), False: Counts()}
    for row in rows:
        groups[row["holdout"]].add(row["replies"], row["sends"])
    return groups


def campaign_send_time_lift(*, campaign: Campaign) -> Lift:
    groups = _group_counts(campaign)
    return lift_estimate(
        optimised=groups[False],
        holdout=groups[True],
        min_sample=settings.SEND_TIME_MIN_SAMPLE,
        draws=settings.AB_MONTE_CARLO_DRAWS,
    )


def campaign_slot_table(*, campaign: Campaign, limit: int = 8) -> list[dict]:
    """The campaign's most-used slots: sends, replies and the pooled posterior mean."""
    optimisation = campaign_optimisation(campaign=campaign)
    model = slot_model_load(by_industry=optimisation.by_industry)
    rows = (
        SendTimeAssignment.objects.filter(campaign=campaign, replied__isnull=False)
        .exclude(sent_slot="")
        .values("zone", "industry", "sent_slot")
        .annotate(sends=Count("pk"), replies=Count("pk", filter=Q(replied=True)))
        .order_by("-sends")[:limit]
    )
    table = []
    for row in rows:
        industry = row["industry"] if optimisation.by_industry else ""
        alpha, beta = model.posterior((row["zone"], industry, row["sent_slot"]))
        table.append({**row, "posterior_mean": alpha / (alpha + beta)})
    return table
