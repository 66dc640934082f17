"""Every write to an Enrollment row: enroll, claim, pin a variant, advance after a
send, stop, pause for an out-of-office and resume.

A prospect's stage has one owner (`crm.services.prospect_change_stage`); a sequence's
state has this module. Other modules read enrollments freely but change them only by
calling these functions (`tests/test_architecture.py` holds every module to it). The
statements that run for every e-mail are plain SQL (see `jengu/sql.py`) and live here
too, the send's as a part of one statement that `outreach.sending.records` runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import F, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from crm.models import Campaign, CampaignStep, Enrollment, Prospect, Stage
from jengu.sql import execute

Status = Enrollment.Status
# A sequence that may still send: stopping, pausing and advancing act on these only.
LIVE_STATUSES = (Status.ACTIVE, Status.PAUSED)
# A prospect in these stages answered us: a sequence that ends for it ends `replied`.
REPLIED_STAGES = frozenset({Stage.REPLIED, Stage.MEETING, Stage.WON})
# Stages after which no sequence may e-mail the prospect.
STOP_STAGES = REPLIED_STAGES | {Stage.LOST, Stage.UNSUBSCRIBED, Stage.BOUNCED, Stage.INVALID}


# --- enrolling ---------------------------------------------------------------------


@dataclass(frozen=True)
class EnrollResult:
    prospect_id: int
    status: str  # "enrolled" | "already_enrolled" | "not_found" | "not_eligible"
    reason: str = ""


NOT_ENROLLABLE_STAGES = frozenset(
    {Stage.UNSUBSCRIBED, Stage.BOUNCED, Stage.INVALID, Stage.LOST, Stage.WON}
)


def campaign_enroll(*, campaign: Campaign, prospect_ids: Iterable[int]) -> list[EnrollResult]:
    """Enroll prospects in a campaign, due now; one result per requested id, in order."""
    ids = list(dict.fromkeys(prospect_ids))
    prospects = Prospect.objects.in_bulk(ids)
    already = set(
        Enrollment.objects.filter(campaign=campaign, prospect_id__in=ids).values_list(
            "prospect_id", flat=True
        )
    )
    results: list[EnrollResult] = []
    to_create: list[Enrollment] = []
    now = timezone.now()
    for prospect_id in ids:
        prospect = prospects.get(prospect_id)
        if prospect is None:
            results.append(EnrollResult(prospect_id, "not_found", "no such prospect"))
        elif prospect_id in already:
            results.append(EnrollResult(prospect_id, "already_enrolled"))
        elif prospect.stage in NOT_ENROLLABLE_STAGES:
            results.append(EnrollResult(prospect_id, "not_eligible", f"stage is {prospect.stage}"))
        else:
            to_create.append(Enrollment(prospect=prospect, campaign=campaign, next_send_at=now))
            results.append(EnrollResult(prospect_id, "enrolled"))
    Enrollment.objects.bulk_create(to_create, ignore_conflicts=True)
    return results


# --- the scheduler's claims --------------------------------------------------------
# A claim moves `next_send_at` a lease ahead and stamps `updated_at` with the claim's
# time, so a claim is recognised exactly: next_send_at == updated_at + lease.


def enrollments_claim(*, enrollment_ids: Sequence[int], now: datetime, lease: timedelta) -> int:
    """Hold these enrollments for one send batch until `now + lease`."""
    return Enrollment.objects.filter(pk__in=enrollment_ids).update(
        next_send_at=now + lease, updated_at=now
    )


def enrollments_defer(*, until: Mapping[int, datetime], now: datetime) -> int:
    """Move these enrollments' next send to a later time each (a send-time slot)."""
    moved = list(Enrollment.objects.filter(pk__in=until).only("pk"))
    for enrollment in moved:
        enrollment.next_send_at, enrollment.updated_at = until[enrollment.pk], now
    return Enrollment.objects.bulk_update(moved, ["next_send_at", "updated_at"], batch_size=500)


def enrollment_claims_release(*, now: datetime, lease: timedelta) -> int:
    """Make the enrollments of running claims due now; how many."""
    return Enrollment.objects.filter(
        status=Status.ACTIVE, next_send_at__gt=now, next_send_at=F("updated_at") + lease
    ).update(next_send_at=now, updated_at=now)


# --- compose and send --------------------------------------------------------------

# Plain SQL: it runs with every compose (jengu/sql.py).
_PIN_VARIANT_SQL = f"""
UPDATE {Enrollment._meta.db_table} SET variant = %s WHERE id = %s AND variant = ''
"""  # noqa: S608 - table name from the model


def enrollment_pin_variant(*, enrollment_id: int, variant: str) -> None:
    """Keep the variant of the first composed step for the whole sequence."""
    execute(_PIN_VARIANT_SQL, [variant, enrollment_id])


# The enrollment's part of the one statement that records a send
# (`outreach.sending.records`). It reads a CTE `sent(enrollment_id, step)` and the
# parameters %(sent_at)s, %(now)s and `ADVANCE_PARAMS`, and moves the sequence past
# the sent step: the next step due `delay_days` after the send, or the sequence
# finished. It moves only from the message's own step, so a late or repeated record
# never moves it twice or backwards, and one stopped meanwhile (a reply) stays stopped,
# not "finished". It ends with the CTE `advanced` (the enrollment moved, or none).
ADVANCE_AFTER_SEND_CTES = f"""
following AS (
    SELECT step."order", step.delay_days
    FROM {CampaignStep._meta.db_table} AS step
    JOIN {Enrollment._meta.db_table} AS e ON e.campaign_id = step.campaign_id
    JOIN sent ON e.id = sent.enrollment_id
    WHERE step."order" > sent.step
    ORDER BY step."order" LIMIT 1
), advanced AS (
    UPDATE {Enrollment._meta.db_table} AS e SET
        current_step = COALESCE((SELECT "order" FROM following), e.current_step),
        next_send_at = %(sent_at)s + (SELECT delay_days FROM following) * interval '1 day',
        status = CASE
            WHEN NOT EXISTS (SELECT 1 FROM following) AND e.status = ANY(%(live)s)
            THEN %(finished)s ELSE e.status END,
        last_sent_at = %(sent_at)s,
        updated_at = %(now)s
    FROM sent
    WHERE e.id = sent.enrollment_id AND e.current_step = sent.step
    RETURNING e.id
)"""  # noqa: S608 - table names from the models
ADVANCE_PARAMS = {
    "live": [status.value for status in LIVE_STATUSES],
    "finished": Status.FINISHED.value,
}


def enrollment_mark_sent(*, enrollment_id: int, sent_at: datetime) -> None:
    """A late send record (the sequence moved on meanwhile) still marks the enrollment
    as having sent: the sender looks for a thread to continue only then."""
    Enrollment.objects.filter(pk=enrollment_id, last_sent_at__isnull=True).update(
        last_sent_at=sent_at
    )


# --- stopping ----------------------------------------------------------------------


def _stop(enrollments: QuerySet[Enrollment], *, status: str, reason: str) -> int:
    """End live sequences for good, with the reason a person will read."""
    return enrollments.filter(status__in=LIVE_STATUSES).update(
        status=status, stop_reason=reason[:255], next_send_at=None, updated_at=timezone.now()
    )


def enrollment_stop(*, enrollment_id: int, reason: str, status: str = Status.STOPPED) -> bool:
    """End one sequence (`stopped`, or `replied` when the prospect answered); False if
    it had already ended."""
    return bool(_stop(Enrollment.objects.filter(pk=enrollment_id), status=status, reason=reason))


def enrollment_stop_for_stage(*, enrollment_id: int, stage: str, reason: str) -> bool:
    """End a sequence because of its prospect's stage: `replied` when they answered us."""
    status = Status.REPLIED if stage in REPLIED_STAGES else Status.STOPPED
    return enrollment_stop(enrollment_id=enrollment_id, reason=reason, status=status)


def enrollments_stop(*, prospect: Prospect, reason: str, status: str = Status.STOPPED) -> int:
    """End every live sequence of the prospect, in all campaigns (one answer, bounce or
    opt-out stops them all); how many."""
    return _stop(Enrollment.objects.filter(prospect=prospect), status=status, reason=reason)


# --- out of office -----------------------------------------------------------------


def enrollments_pause_until(*, prospect: Prospect, until: datetime) -> int:
    """Pause the prospect's live sequences until `until` (an out-of-office reply), the
    next step no sooner; an operator's pause (no end) is left alone. How many."""
    return (
        Enrollment.objects.filter(prospect=prospect, status__in=LIVE_STATUSES)
        .exclude(status=Status.PAUSED, paused_until=None)
        .update(
            status=Status.PAUSED,
            paused_until=until,
            next_send_at=Greatest(F("next_send_at"), until),
            updated_at=timezone.now(),
        )
    )


def enrollments_resume_after_ooo(*, now: datetime | None = None) -> int:
    """Resume sequences paused for an out-of-office whose return has come.

    Only pauses with `paused_until` are touched: an operator's pause has none.
    """
    return Enrollment.objects.filter(
        status=Status.PAUSED, paused_until__lte=now or timezone.now()
    ).update(status=Status.ACTIVE, paused_until=None, updated_at=timezone.now())
