"""Whether a message may go out now: permanent refusals versus reasons to wait."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm.enrollments import STOP_STAGES
from crm.models import EmailStatus, Enrollment
from outreach.models import EmailMessage
from outreach.suppression import is_suppressed

from .windows import window_check, window_next_opening

SENDABLE_EMAIL_STATUSES = frozenset({EmailStatus.VALID, EmailStatus.CATCH_ALL})


@dataclass(frozen=True)
class Refusal:
    """Never send this message; `stop` also ends the sequence (false for a stale step)."""

    reason: str
    stop: bool = True


@dataclass(frozen=True)
class Hold:
    """Not now: the message stays queued. `until` None means "when an operator acts"."""

    reason: str
    until: datetime | None = None


def refusal_for(message: EmailMessage) -> Refusal | None:
    """Why `message` must never be sent (None if it may), checked right before sending."""
    reason = _refusal_reason(message)
    if not reason:
        return None
    return Refusal(reason, stop=not reason.endswith("already done"))


def _refusal_reason(message: EmailMessage) -> str:
    prospect, enrollment = message.prospect, message.enrollment
    if message.campaign_id is None or enrollment is None or prospect is None:
        return "message has no campaign, enrollment or prospect"
    if not prospect.email:
        return "prospect has no e-mail address"
    if is_suppressed(prospect.email):
        return "suppressed"
    if prospect.stage in STOP_STAGES:
        return f"prospect is {prospect.stage}"
    if prospect.email_status not in SENDABLE_EMAIL_STATUSES:
        return f"e-mail status is {prospect.email_status}"
    if enrollment.status not in (Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED):
        return f"enrollment is {enrollment.status}"
    if message.step is not None and message.step < enrollment.current_step:
        return f"step {message.step} is already done"
    return ""


def hold_reason(message: EmailMessage, now: datetime) -> Hold | None:
    """Why `message` must wait (campaign paused, window closed…), or None to go now."""
    campaign, enrollment = message.campaign, message.enrollment
    if campaign.status != campaign.Status.ACTIVE:
        return Hold(f"campaign is {campaign.status}")
    if message.step == 1 and campaign.first_steps_paused:
        return Hold("first steps paused (bounce protection)")
    if enrollment.status == Enrollment.Status.PAUSED:
        return Hold("enrollment paused")
    if enrollment.paused_until and enrollment.paused_until > now:
        return Hold("enrollment paused (out of office)", enrollment.paused_until)
    check = window_check(campaign=campaign, prospect=message.prospect, at=now)
    if not check.open:
        opening = window_next_opening(campaign=campaign, prospect=message.prospect, after=now)
        return Hold(f"outside the sending window ({check.reason})", opening)
    return None
