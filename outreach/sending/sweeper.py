"""Re-emitting work that is due but stuck, and settling messages whose fate is unknown.

PostgreSQL says what is due; a queue message is only a nudge. After Redis lost
its queues, the sweeper's nudges are what finally sends the e-mails:
- `queued` and untouched for `SEND_STUCK_AFTER_MINUTES`: `SendEmail` again
  (the send fence makes a duplicate nudge harmless);
- `sending` for that long: the worker died around the SMTP call. If it had not
  reached DATA yet (see `handover.py`) the row is queued again; otherwise it
  becomes `uncertain`, never `queued` (no blind resend);
- `uncertain`: looked up by Message-ID in the inbox's Sent folder over IMAP
  where the inbox has IMAP; found means sent, otherwise an operator decides.
Claimed-but-never-composed enrollments need no sweep: their claim lease runs
out and the next batch claims them again (see `batch.py`).

After Redis lost its data (a restart without persistence, a failover, an
eviction: a marker key every sweep leaves is gone), no nudge or delayed event
survived, so the sweep does not wait for work to look stuck: every queued
message is nudged now, and the enrollments of running claims are due again
(with a batch emitted to claim them) instead of after their lease.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from crm.models import Campaign
from jengu.bus import emit, emit_many
from jengu.redis_helpers import get_redis
from jengu.redis_helpers.client import key
from outreach.models import EmailMessage

from .batch import claims_release
from .handover import handover_take_back
from .imap_lookup import sent_folder_has
from .nudge import nudges_pending
from .records import message_record_sent

logger = logging.getLogger(__name__)
Status = EmailMessage.Status
SWEEP_LIMIT = 5000


@dataclass
class SweepReport:
    redis_lost_data: bool = False
    renudged: list[int] = field(default_factory=list)
    claims_released: int = 0
    marked_uncertain: list[int] = field(default_factory=list)
    resolved_sent: list[int] = field(default_factory=list)
    left_for_operator: list[int] = field(default_factory=list)


def stuck_queued(*, older_than: timedelta) -> list[int]:
    """Queued outbound messages of active campaigns nobody touched for `older_than`."""
    return list(
        EmailMessage.objects.filter(
            direction=EmailMessage.Direction.OUTBOUND,
            status=Status.QUEUED,
            updated_at__lt=timezone.now() - older_than,
            campaign__status=Campaign.Status.ACTIVE,
        )
        .order_by("updated_at")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )


def sending_settle_dead(*, older_than: timedelta) -> tuple[list[int], list[int]]:
    """Rows stuck in `sending` (their worker is gone): (requeued, marked uncertain).

    Those that provably never reached SMTP DATA go back to `queued`; the rest
    become `uncertain`.
    """
    cutoff = timezone.now() - older_than
    stuck = list(
        EmailMessage.objects.filter(status=Status.SENDING, updated_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:SWEEP_LIMIT]
    )
    safe = handover_take_back(stuck)
    doubtful = [pk for pk in stuck if pk not in safe]
    stale = EmailMessage.objects.filter(status=Status.SENDING, updated_at__lt=cutoff)
    stale.filter(pk__in=safe).update(
        status=Status.QUEUED,
        error="the worker stopped before handing the e-mail over; queued again",
        updated_at=timezone.now(),
    )
    stale.filter(pk__in=doubtful).update(
        status=Status.UNCERTAIN,
        error="the worker stopped while handing the e-mail over; not resent automatically",
        updated_at=timezone.now(),
    )
    return sorted(safe), doubtful


def uncertain_resolve(*, message: EmailMessage) -> bool:
    """Settle an uncertain message from the Sent folder; True if found (now `sent`)."""
    inbox = message.inbox
    if inbox is None or not inbox.imap_host or not inbox.imap_sent_folder:
        return False
    try:
        found = sent_folder_has(inbox=inbox, message_id=message.message_id)
    except OSError as exc:  # any IMAP trouble: still unknown, the operator sees it
        logger.warning("IMAP lookup for message %s failed: %s", message.pk, exc)
        return False
    if found:
        message_record_sent(
            message=message,
            sent_at=message.updated_at,
            note="found in the Sent folder",
            resolved_by=f"imap:{inbox.imap_sent_folder}",
        )
    return found


def redis_lost_data() -> bool:
    """True if Redis lost its data since the last sweep (or this is the first sweep).

    The marker has no expiry: only a restart without persistence, a failover to
    a replica without it, a flush or an eviction removes it.
    """
    return bool(get_redis().set(key("send", "sweeper-marker"), "1", nx=True))


def stuck_work_sweep() -> SweepReport:
    """One sweep: nudge stuck queued messages, flag dead sends, settle uncertain ones."""
    report = SweepReport(redis_lost_data=redis_lost_data())
    older_than = timedelta(minutes=settings.SEND_STUCK_AFTER_MINUTES)
    stuck = stuck_queued(older_than=timedelta(0) if report.redis_lost_data else older_than)
    pending = nudges_pending(stuck)
    report.renudged = [pk for pk in stuck if pk not in pending]
    requeued, report.marked_uncertain = sending_settle_dead(older_than=older_than)
    report.renudged += requeued
    emit_many("SendEmail", [{"message_id": pk} for pk in report.renudged])
    if report.redis_lost_data:
        report.claims_released = claims_release()
        if report.claims_released:
            emit("SendEmailBatch", {})
    uncertain = (
        EmailMessage.objects.filter(status=Status.UNCERTAIN)
        .select_related("inbox", "prospect")
        .defer("body")[:SWEEP_LIMIT]
    )
    for message in uncertain:
        if uncertain_resolve(message=message):
            report.resolved_sent.append(message.pk)
        else:
            report.left_for_operator.append(message.pk)
    return report
