"""The scheduler's send batch: claim due enrollments and ask compose for their e-mails.

Claiming is `SELECT … FOR UPDATE SKIP LOCKED` plus a lease: a claimed
enrollment's `next_send_at` moves `SEND_CLAIM_LEASE_MINUTES` ahead, so two
batches never take the same one, and one whose compose event was lost is due
(and claimed) again once the lease runs out. Compose is idempotent on
`<enrollment>:<step>`, so a second claim never writes a second e-mail.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from crm.enrollments import (
    STOP_STAGES,
    enrollment_claims_release,
    enrollment_stop_for_stage,
    enrollments_claim,
    enrollments_defer,
)
from crm.models import Campaign, Enrollment, Inbox
from crm.regions import prospect_region
from jengu.bus import emit
from outreach.models import EmailMessage
from outreach.suppression import suppressed_exists

from .eligibility import SENDABLE_EMAIL_STATUSES
from .presets import preset_min_gap
from .rotation import rotation_candidates
from .send_time import send_time_plan_batch
from .warmup import inbox_daily_cap, inbox_sent_today, send_day
from .windows import window_check

# Messages still on their way for an enrollment's current step: do not claim it again.
IN_PROGRESS = [
    EmailMessage.Status.PENDING_APPROVAL,
    EmailMessage.Status.QUEUED,
    EmailMessage.Status.SENDING,
    EmailMessage.Status.UNCERTAIN,
]


SLOT_LATER = "send-time slot later"


@dataclass
class BatchReport:
    dry_run: bool = False
    selected: list[int] = field(default_factory=list)  # enrollment ids sent to compose
    skipped: Counter = field(default_factory=Counter)  # reason -> how many
    stopped: int = 0  # sequences ended because the prospect can no longer be e-mailed

    def merge(self, other: BatchReport) -> None:
        self.selected += other.selected
        self.skipped.update(other.skipped)
        self.stopped += other.stopped


def _in_progress() -> Exists:
    return Exists(
        EmailMessage.objects.filter(
            enrollment_id=OuterRef("pk"), step=OuterRef("current_step"), status__in=IN_PROGRESS
        )
    )


def due_enrollments(*, campaign: Campaign, now: datetime) -> QuerySet[Enrollment]:
    """Active enrollments of `campaign` whose next step is due, oldest first."""
    return (
        Enrollment.objects.filter(
            campaign=campaign, status=Enrollment.Status.ACTIVE, next_send_at__lte=now
        )
        .filter(Q(paused_until__isnull=True) | Q(paused_until__lte=now))
        .select_related("prospect")
        .annotate(
            suppressed=suppressed_exists(OuterRef("prospect__email")), in_progress=_in_progress()
        )
        .order_by("next_send_at", "pk")
    )


def _inbox_batch_capacity(inbox: Inbox, day: date) -> int:
    """Sends `inbox` can make before the next batch: today's free slots, paced."""
    free = max(inbox_daily_cap(inbox=inbox, day=day) - inbox_sent_today(inbox=inbox, day=day), 0)
    gap = preset_min_gap(inbox=inbox)
    if gap <= 0:
        return free
    per_interval = math.ceil(settings.SEND_BATCH_INTERVAL_MINUTES * 60 / gap)
    return min(free, per_interval)


def campaign_free_capacity(*, campaign: Campaign) -> int:
    """E-mails worth composing now: the inboxes' paced free slots minus what is queued.

    Only a throttle on how much is composed ahead; the hard caps are enforced
    per send (`warmup_reserve`), so an over-estimate only means a message waits.
    """
    day = send_day()
    slots = sum(
        _inbox_batch_capacity(inbox, day)
        for inbox in rotation_candidates(campaign=campaign, first_step=False)
    )
    queued = EmailMessage.objects.filter(campaign=campaign, status=EmailMessage.Status.QUEUED)
    return max(slots - queued.count(), 0)


def _skip_reason(enrollment: Enrollment, campaign: Campaign, now: datetime) -> str:
    prospect = enrollment.prospect
    if enrollment.suppressed:
        return "suppressed"
    if prospect.stage in STOP_STAGES:
        return f"prospect {prospect.stage}"
    if not prospect.email:
        return "no e-mail address"
    if prospect.email_status not in SENDABLE_EMAIL_STATUSES:
        return f"e-mail {prospect.email_status}"
    if enrollment.in_progress:
        return "message in progress"
    if enrollment.current_step == 1 and campaign.first_steps_paused:
        return "first steps paused"
    check = window_check(campaign=campaign, prospect=prospect, at=now)
    return f"window: {check.reason}" if not check.open else ""


def _plannable(reason: str) -> bool:
    return not reason or reason.startswith("window: ")


# Reasons that mean "this prospect can never get this sequence": end it.
def _is_final(reason: str) -> bool:
    return reason == "suppressed" or reason.startswith("prospect ")


def _stop(enrollments: list[tuple[Enrollment, str]]) -> None:
    for enrollment, reason in enrollments:
        stage = enrollment.prospect.stage
        enrollment_stop_for_stage(enrollment_id=enrollment.pk, stage=stage, reason=reason)


def campaign_batch(*, campaign: Campaign, dry_run: bool = False) -> BatchReport:
    """Claim and emit this campaign's due enrollments, up to its inboxes' free capacity.

    With send-time optimisation on, first touches not yet planned are first given a
    time slot (send_time.py); those due later move there.
    """
    report = BatchReport(dry_run=dry_run)
    now = timezone.now()
    capacity = campaign_free_capacity(campaign=campaign)
    with transaction.atomic():
        rows = list(
            due_enrollments(campaign=campaign, now=now).select_for_update(
                skip_locked=True, of=("self",)
            )[: settings.SEND_BATCH_SCAN_LIMIT]
        )
        reasons = {row.pk: _skip_reason(row, campaign, now) for row in rows}
        later = {}
        if not dry_run:
            # A closed window does not stop planning: every slot lies inside the window.
            plannable = [row for row in rows if _plannable(reasons[row.pk])]
            later = send_time_plan_batch(campaign=campaign, enrollments=plannable, now=now)
        final: list[tuple[Enrollment, str]] = []
        steps: dict[int, int] = {}
        regions: dict[int, str | None] = {}
        for enrollment in rows:
            reason = SLOT_LATER if enrollment.pk in later else reasons[enrollment.pk]
            if not reason and len(report.selected) >= capacity:
                reason = "no inbox capacity today"
            if reason:
                report.skipped[reason] += 1
                if _is_final(reason):
                    final.append((enrollment, reason))
                continue
            report.selected.append(enrollment.pk)
            steps[enrollment.pk] = enrollment.current_step
            regions[enrollment.pk] = prospect_region(enrollment.prospect)
        if dry_run:
            return report
        _stop(final)
        enrollments_defer(until=later, now=now)
        report.stopped = len(final)
        enrollments_claim(enrollment_ids=report.selected, now=now, lease=_lease())
        for enrollment_id in report.selected:
            payload = {"enrollment_id": enrollment_id, "step": steps[enrollment_id]}
            emit("ComposeEmail", payload, region=regions[enrollment_id])
    return report


def _lease() -> timedelta:
    return timedelta(minutes=settings.SEND_CLAIM_LEASE_MINUTES)


def claims_release() -> int:
    """Make the enrollments of running claims due now; how many.

    For when their ComposeEmail events may be lost (Redis lost its data): the
    next batch claims them again instead of waiting for the lease to run out.
    A claim is recognised exactly: the batch sets `next_send_at` to its
    `updated_at` plus the lease. Compose is idempotent, so a claim whose event
    was not lost costs one more harmless event.
    """
    return enrollment_claims_release(now=timezone.now(), lease=_lease())


def send_batch_run(*, campaign: Campaign | None = None, dry_run: bool = False) -> BatchReport:
    """One scheduler tick: every active campaign (or just `campaign`)."""
    report = BatchReport(dry_run=dry_run)
    campaigns = [campaign] if campaign else Campaign.objects.filter(status=Campaign.Status.ACTIVE)
    for each in campaigns:
        if each.status != Campaign.Status.ACTIVE:
            report.skipped[f"campaign {each.status}"] += 1
            continue
        report.merge(campaign_batch(campaign=each, dry_run=dry_run))
    return report
