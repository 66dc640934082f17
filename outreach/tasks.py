"""Outreach actors: thin wrappers that load rows, call a service and emit the next event."""

from __future__ import annotations

import logging

from django.conf import settings
from dramatiq_crontab import interval

from crm.models import CampaignStep, Enrollment, Inbox
from jengu.bus import InvalidDataError, emit, event_actor
from outreach.compose import ComposeError, message_compose
from outreach.models import InboundEmail
from outreach.replies.effects import enrollments_resume_after_ooo
from outreach.replies.imap import inbox_poll, pollable_inboxes
from outreach.replies.services import inbound_process

logger = logging.getLogger(__name__)


@event_actor("ComposeEmail", queue="compose")
def compose_email(enrollment_id: int, step: int) -> None:
    """Write the e-mail for step order `step` of an enrollment, then hand it to the sender.

    A message that already exists and is still queued is handed over again: the
    sender's own fence makes a duplicate SendEmail harmless.
    """
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    campaign_step = (
        CampaignStep.objects.filter(campaign_id=enrollment.campaign_id, order=step).first()
        if enrollment
        else None
    )
    if campaign_step is None:
        logger.info("ComposeEmail: enrollment %s step %s no longer exists", enrollment_id, step)
        return
    try:
        result = message_compose(enrollment=enrollment, step=campaign_step)
    except ComposeError as exc:
        raise InvalidDataError(str(exc)) from exc
    if result.sendable:
        emit("SendEmail", {"message_id": result.message.pk})


# --- Replies (issue 6): InboundEmail, and the scheduler's PollInboxes / ResumeOutOfOffice.


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
