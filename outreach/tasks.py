"""Outreach actors: thin wrappers that load rows, call a service and emit the next event."""

from __future__ import annotations

import logging
import math
from datetime import datetime

from django.conf import settings
from dramatiq_crontab import interval

from crm.enrollments import enrollments_resume_after_ooo
from crm.models import Campaign, Inbox
from crm.regions import region_of_enrollment_event
from jengu.bus import InvalidDataError, emit, event_actor
from jengu.metrics import count
from jengu.sql import fetch_row
from outreach.compose import ComposeError, message_compose_for, step_of_enrollment
from outreach.deliverability import tasks as deliverability_tasks  # noqa: F401 - its actors
from outreach.models import EmailMessage, InboundEmail
from outreach.regions import message_region, region_of_message_event
from outreach.replies.imap import inbox_poll, pollable_inboxes
from outreach.replies.services import inbound_process
from outreach.sending.batch import send_batch_run
from outreach.sending.nudge import send_nudge
from outreach.sending.services import message_load, message_send
from outreach.sending.sweeper import stuck_work_sweep

logger = logging.getLogger(__name__)


@event_actor("ComposeEmail", queue="compose", region_of=region_of_enrollment_event)
def compose_email(enrollment_id: int, step: int, deadline: str | None = None) -> None:
    """Write the e-mail for step order `step` of an enrollment, then hand it to the sender.

    A message that already exists and is still queued is handed over again: the
    sender's own fence makes a duplicate SendEmail harmless. While every usable AI
    provider is busy the event comes back later with the same `deadline` (ISO 8601):
    a new event, so no retry is spent on waiting.
    """
    campaign_step = step_of_enrollment(enrollment_id=enrollment_id, order=step)
    if campaign_step is None:
        logger.info("ComposeEmail: enrollment %s step %s no longer exists", enrollment_id, step)
        return
    try:
        result = message_compose_for(
            enrollment_id=enrollment_id, step=campaign_step, deadline=_parse_deadline(deadline)
        )
    except ComposeError as exc:
        raise InvalidDataError(str(exc)) from exc
    if result.status == "deferred":
        again = {
            "enrollment_id": enrollment_id,
            "step": step,
            "deadline": result.deadline.isoformat(),
        }
        emit("ComposeEmail", again, delay_ms=math.ceil(result.retry_in * 1000))
    elif result.sendable:
        message = result.message
        emit("SendEmail", {"message_id": message.pk}, region=message_region(message))


def _parse_deadline(value: str | None) -> datetime | None:
    """The deadline a re-queued compose carries; a malformed one is computed afresh."""
    try:
        parsed = datetime.fromisoformat(value) if value else None
    except ValueError:
        parsed = None
    if value and (parsed is None or parsed.tzinfo is None):
        logger.warning("ComposeEmail: ignoring the malformed deadline %r", value)
        return None
    return parsed


# --- Sending: SendEmail, EmailSent, and the scheduler's SendEmailBatch / SweepStuckWork.


@event_actor("SendEmail", queue="send", region_of=region_of_message_event)
def send_email(message_id: int, nudge: str = "") -> None:
    """Send one queued message (exactly once); a held message gets one delayed nudge.

    `nudge` is set when this event is such a nudge: held again, it schedules the next.
    """
    message = message_load(message_id)
    if message is None:
        logger.info("SendEmail: message %s no longer exists", message_id)
        return
    result = message_send(message=message)
    logger.info("SendEmail %s: %s %s", message_id, result.status, result.reason)
    if result.status == "held" and result.retry_after is not None:
        send_nudge(message_id=message_id, delay_seconds=result.retry_after, replacing=nudge)


# Plain SQL: it runs for every e-mail (jengu/sql.py).
_SENT_LABELS_SQL = f"""
SELECT inbox_id, campaign_id FROM {EmailMessage._meta.db_table} WHERE id = %s
"""  # noqa: S608 - table name from the model


@event_actor("EmailSent", queue="track")
def email_sent(message_id: int) -> None:
    """Count the accepted e-mail (dashboard, /metrics); tracking hooks in here later."""
    row = fetch_row(_SENT_LABELS_SQL, [message_id])
    if row is not None:
        inbox_id, campaign_id = row
        count("emails_sent", inbox=inbox_id, campaign=campaign_id)


@interval(seconds=settings.SEND_BATCH_INTERVAL_MINUTES * 60)
@event_actor("SendEmailBatch", queue="scheduled")
def send_email_batch(campaign_id: int | None = None) -> None:
    """One scheduler tick: claim due enrollments and emit ComposeEmail for each."""
    campaign = Campaign.objects.filter(pk=campaign_id).first() if campaign_id else None
    report = send_batch_run(campaign=campaign)
    skipped = dict(report.skipped)
    logger.info("SendEmailBatch: %d selected, skipped %s", len(report.selected), skipped)


@interval(seconds=settings.SEND_SWEEP_INTERVAL_MINUTES * 60)
@event_actor("SweepStuckWork", queue="scheduled")
def sweep_stuck_work() -> None:
    """Re-emit due-but-stuck sends; flag and settle sends whose outcome is unknown."""
    report = stuck_work_sweep()
    if report.redis_lost_data:
        logger.warning(
            "SweepStuckWork: Redis lost its data; every queued e-mail nudged, %d claims freed",
            report.claims_released,
        )
    logger.info(
        "SweepStuckWork: %d re-emitted, %d marked uncertain, %d found sent, %d for an operator",
        len(report.renudged),
        len(report.marked_uncertain),
        len(report.resolved_sent),
        len(report.left_for_operator),
    )


# --- Replies: InboundEmail, and the scheduler's PollInboxes / ResumeOutOfOffice.


@event_actor("InboundEmail", queue="reply")
def inbound_email(inbound_id: int) -> None:
    """Process one stored inbound message (malformed MIME: InvalidDataError, dead letter)."""
    inbound = InboundEmail.objects.filter(pk=inbound_id).first()
    if inbound is None:
        logger.info("InboundEmail: %s no longer exists", inbound_id)
        return
    result = inbound_process(inbound=inbound)
    logger.info("InboundEmail %s: %s %s %s", inbound_id, result.status, result.label, result.match)


@interval(seconds=settings.IMAP_POLL_INTERVAL_MINUTES * 60)
@event_actor("PollInboxes", queue="scheduled")
def poll_inboxes() -> None:
    """Fan out one PollInbox per inbox with IMAP settings, so workers poll in parallel."""
    for inbox in pollable_inboxes():
        emit("PollInbox", {"inbox_id": inbox.pk})


@event_actor("PollInbox", queue="scheduled")
def poll_inbox(inbox_id: int) -> None:
    inbox = Inbox.objects.filter(pk=inbox_id, active=True).first()
    if inbox is not None:
        result = inbox_poll(inbox=inbox)
        logger.info("PollInbox %s: %d new %s", inbox_id, len(result.stored), result.error)


@interval(seconds=15 * 60)
@event_actor("ResumeOutOfOffice", queue="scheduled")
def resume_out_of_office() -> None:
    """Sequences paused for an out-of-office go on once the person is back."""
    logger.info("ResumeOutOfOffice: %d resumed", enrollments_resume_after_ooo())
