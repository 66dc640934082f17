"""Sender protection: too many hard bounces (a burst in 24 h, or a rate over the last 28
days), or spam complaints in 30 days, pause an inbox's first touches (follow-ups go on);
an operator resumes in admin."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from crm.models import Campaign, Inbox
from jengu.alerts import alert
from outreach.models import EmailMessage, InboundEmail

logger = logging.getLogger(__name__)
Status = EmailMessage.Status
COMPLAINT_WINDOW_DAYS = 30
# Feedback types that are a recipient's complaint (RFC 5965); "not-spam" is praise and
# "auth-failure" a report about our authentication, handled as such.
COUNTED_FEEDBACK = ("abuse", "fraud", "virus", "other", "opt-out")


def bounce_rate(*, since_hours: int = 24, **filters: object) -> tuple[int, int]:
    """(hard bounces, attempts) of outbound e-mail in the last `since_hours` hours."""
    since = timezone.now() - timedelta(hours=since_hours)
    attempts = EmailMessage.objects.filter(
        direction=EmailMessage.Direction.OUTBOUND,
        sent_at__gte=since,
        status__in=[Status.SENT, Status.BOUNCED],
        **filters,
    )
    return attempts.filter(status=Status.BOUNCED).count(), attempts.count()


def _over(bounced: int, attempts: int, threshold: float) -> bool:
    # Below a minimum volume one unlucky bounce would read as a huge rate.
    return attempts >= settings.BOUNCE_MIN_SENDS and bounced / attempts > threshold


def _bounce_verdict(**filters: object) -> str:
    """Why the bounces of these sends call for a pause ('' if they do not): a burst in
    24 h, or a rate over the long window (receivers judge a sender over weeks)."""
    bounced, attempts = bounce_rate(**filters)
    if _over(bounced, attempts, settings.BOUNCE_RATE_THRESHOLD):
        return f"{bounced}/{attempts} bounced in 24 h"
    days = settings.BOUNCE_LONG_WINDOW_DAYS
    bounced, attempts = bounce_rate(since_hours=days * 24, **filters)
    if _over(bounced, attempts, settings.BOUNCE_LONG_RATE_THRESHOLD):
        return f"{bounced}/{attempts} bounced in {days} days"
    return ""


def bounce_protection_check(*, inbox: Inbox | None, campaign: Campaign | None) -> list[str]:
    """Pause first steps of the inbox and/or campaign whose bounce rate is too high.

    Called after every hard bounce (SMTP time here; asynchronous bounces can call
    it too). Returns what it paused. An operator resumes in admin.
    """
    paused = []
    if inbox is not None and not inbox.sending_paused and (verdict := _bounce_verdict(inbox=inbox)):
        Inbox.objects.filter(pk=inbox.pk).update(sending_paused=True)
        paused.append(f"inbox {inbox.email}: {verdict}")
    if (
        campaign is not None
        and not campaign.first_steps_paused
        and (verdict := _bounce_verdict(campaign=campaign))
    ):
        Campaign.objects.filter(pk=campaign.pk).update(first_steps_paused=True)
        paused.append(f"campaign {campaign.name}: {verdict}")
    for what in paused:
        logger.warning("bounce protection paused first steps of %s", what)
        alert("bounce_protection", f"First steps paused for {what}; resume in admin.")
    return paused


def complaint_rate(*, inbox: Inbox) -> tuple[int, int]:
    """(spam complaints, e-mails sent) for `inbox` over the last 30 days."""
    since = timezone.now() - timedelta(days=COMPLAINT_WINDOW_DAYS)
    complaints = InboundEmail.objects.filter(
        label=InboundEmail.Label.COMPLAINT,
        status=InboundEmail.Status.PROCESSED,
        replied_to__inbox=inbox,
        received_at__gte=since,
        details__feedback_type__in=COUNTED_FEEDBACK,
    ).count()
    sent = EmailMessage.objects.filter(
        direction=EmailMessage.Direction.OUTBOUND,
        inbox=inbox,
        sent_at__gte=since,
        status__in=[Status.SENT, Status.BOUNCED],
    ).count()
    return complaints, sent


def complaint_protection_check(*, inbox: Inbox) -> bool:
    """Pause the inbox's first touches when its complaint rate passes the threshold."""
    complaints, sent = complaint_rate(inbox=inbox)
    over = (
        sent >= settings.BOUNCE_MIN_SENDS and complaints / sent > settings.COMPLAINT_RATE_THRESHOLD
    )
    if not over or not Inbox.objects.filter(pk=inbox.pk, sending_paused=False).update(
        sending_paused=True
    ):
        return False
    what = f"inbox {inbox.email}: {complaints} spam complaints / {sent} sent in 30 days"
    logger.warning("complaint protection paused first steps of %s", what)
    alert("complaint_protection", f"First steps paused for {what}; resume in admin.")
    return True
