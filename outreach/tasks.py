"""Outreach actors: thin wrappers that load rows, call a service and emit the next event."""

from __future__ import annotations

import logging

from crm.models import CampaignStep, Enrollment
from jengu.bus import InvalidDataError, emit, event_actor
from outreach.compose import ComposeError, message_compose

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
