"""Send-time optimisation's control loop: settling outcomes, and the campaign's report
(the learned slots and the lift over the holdout).

The send batch plans first touches into slots (outreach/sending/send_time.py).
Outcomes are settled SEND_TIME_REPLY_WINDOW_HOURS after the e-mail went: a human
reply (not an auto-reply, bounce or complaint) in that time is a success; a first
touch that never went (bounced, refused, sequence stopped) is left out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from crm.models import Campaign, Enrollment
from outreach.bayes import Counts, Lift, lift_estimate
from outreach.deliverability_models import SendTimeAssignment
from outreach.models import EmailMessage, InboundEmail
from outreach.sending.send_time import campaign_optimisation, slot_model_load, slot_of
from outreach.sending.windows import zone_named

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
