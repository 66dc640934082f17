"""What a classified inbound message does to the CRM.

Every effect is safe to apply twice (a redelivered event or a reprocess after a
bug fix): updates are fenced on the state they change, stage moves to the current
stage are no-ops, and suppression keeps its first entry.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from crm.models import EmailStatus, Enrollment, Inbox, Prospect, Stage
from crm.services import prospect_change_stage, stage_transition_allowed
from jengu.alerts import alert
from outreach.models import EmailMessage, InboundEmail, Suppression
from outreach.replies.classify import Verdict
from outreach.replies.threading import ThreadMatch
from outreach.suppression import suppression_add

logger = logging.getLogger(__name__)

Label = InboundEmail.Label
CHANGED_BY = "actor:InboundEmail"
LIVE = [Enrollment.Status.ACTIVE, Enrollment.Status.PAUSED]
# Replies a person should answer (the dashboard's "needs a human" list).
NEEDS_HUMAN = frozenset({Label.INTERESTED, Label.MEETING, Label.QUESTION, Label.OTHER})
NOTIFY = frozenset({Label.INTERESTED, Label.MEETING})
# A later reply never moves a prospect back from these to "replied".
AHEAD = frozenset({Stage.MEETING, Stage.WON})


def effects_apply(*, inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    """Apply the verdict's effects inside the caller's transaction; return what was done."""
    handler = {
        Label.BOUNCE_HARD: _hard_bounce,
        Label.BOUNCE_SOFT: _soft_bounce,
        Label.AUTO_REPLY: _auto_reply,
        Label.UNSUBSCRIBE: _unsubscribe,
    }.get(verdict.label, _human_reply)
    done = handler(inbound, verdict, match)
    inbound.needs_human = verdict.label in NEEDS_HUMAN or (
        match.prospect is None and verdict.is_human
    )
    if verdict.label in NOTIFY:
        transaction.on_commit(lambda: _notify(inbound.pk, verdict.label))
    return done


def enrollments_stop(*, prospect: Prospect, status: str, reason: str) -> int:
    """End every live sequence of the prospect (all campaigns): one answer stops them all."""
    return Enrollment.objects.filter(prospect=prospect, status__in=LIVE).update(
        status=status, stop_reason=reason[:255], next_send_at=None, updated_at=timezone.now()
    )


def _move_stage(prospect: Prospect, to_stage: str, reason: str) -> str:
    prospect.refresh_from_db(fields=["stage"])
    if prospect.stage == to_stage or (to_stage == Stage.REPLIED and prospect.stage in AHEAD):
        return f"stage kept at {prospect.stage}"
    if not stage_transition_allowed(from_stage=prospect.stage, to_stage=to_stage):
        # A reply from someone we never marked contacted: the e-mail did reach them.
        if stage_transition_allowed(from_stage=prospect.stage, to_stage=Stage.CONTACTED):
            prospect_change_stage(
                prospect=prospect, to_stage=Stage.CONTACTED, changed_by=CHANGED_BY, reason=reason
            )
        if not stage_transition_allowed(from_stage=prospect.stage, to_stage=to_stage):
            return f"stage kept at {prospect.stage}"
    prospect_change_stage(
        prospect=prospect, to_stage=to_stage, changed_by=CHANGED_BY, reason=reason
    )
    return f"stage → {to_stage}"


def _human_reply(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    if match.prospect is None:
        return ["unmatched sender: kept for review"]
    reason = f"reply: {verdict.label}"
    stopped = enrollments_stop(
        prospect=match.prospect, status=Enrollment.Status.REPLIED, reason=reason
    )
    return [f"{stopped} sequence(s) stopped", _move_stage(match.prospect, Stage.REPLIED, reason)]


def _unsubscribe(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    address = match.prospect.email if match.prospect else inbound.from_email
    done = [_suppress(address, "asked to unsubscribe in a reply")] if address else []
    if match.prospect is not None:
        stopped = enrollments_stop(
            prospect=match.prospect, status=Enrollment.Status.REPLIED, reason="reply: unsubscribe"
        )
        done.append(f"{stopped} sequence(s) stopped")
        done.append(_move_stage(match.prospect, Stage.UNSUBSCRIBED, "asked to unsubscribe"))
    return done


def _suppress(address: str, reason: str) -> str:
    suppression_add(value=address, kind=Suppression.Kind.EMAIL, reason=reason, source="reply")
    return f"{address} suppressed ({reason})"


def _bounced_address(verdict: Verdict, match: ThreadMatch) -> str:
    recipient = verdict.details.get("recipient") or ""
    if not recipient and match.outbound is not None:
        recipient = match.outbound.to_email
    if not recipient and match.prospect is not None:
        recipient = match.prospect.email
    return recipient.strip().lower()


def _prospect_bounced(
    prospect: Prospect | None, address: str, *, email_status: str, reason: str
) -> list[str]:
    """The prospect's address is dead: mark it, stop its sequences, move it to bounced."""
    if prospect is None or (address and prospect.email.lower() != address):
        return []
    Prospect.objects.filter(pk=prospect.pk).update(
        email_status=email_status, updated_at=timezone.now()
    )
    stopped = enrollments_stop(prospect=prospect, status=Enrollment.Status.STOPPED, reason=reason)
    return [
        f"e-mail status → {email_status}",
        f"{stopped} sequence(s) stopped",
        _move_stage(prospect, Stage.BOUNCED, reason),
    ]


def _hard_bounce(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    address = _bounced_address(verdict, match)
    reason = f"hard bounce {verdict.details.get('status', '')}".strip()
    done = []
    if match.outbound is not None and _outbound_mark_bounced(match.outbound, verdict):
        done.append("message marked bounced, inbox bounce count +1")
    if address:
        done.append(_suppress(address, reason))
    return done + _prospect_bounced(
        match.prospect, address, email_status=EmailStatus.INVALID, reason=reason
    )


def _outbound_mark_bounced(outbound: EmailMessage, verdict: Verdict) -> bool:
    """Mark our message bounced once; only then count it against the inbox's health."""
    detail = verdict.details.get("diagnostic") or verdict.details.get("status") or "bounced"
    updated = (
        EmailMessage.objects.filter(pk=outbound.pk)
        .exclude(status=EmailMessage.Status.BOUNCED)
        .update(status=EmailMessage.Status.BOUNCED, error=detail, updated_at=timezone.now())
    )
    if updated and outbound.inbox_id:
        Inbox.objects.filter(pk=outbound.inbox_id).update(bounce_count=F("bounce_count") + 1)
        transaction.on_commit(lambda: _bounce_protection(outbound.pk))
    return bool(updated)


def _bounce_protection(message_id: int) -> None:
    from outreach.sending.bounces import bounce_protection_check

    message = EmailMessage.objects.select_related("inbox", "campaign").get(pk=message_id)
    bounce_protection_check(inbox=message.inbox, campaign=message.campaign)


def _soft_bounce(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    prospect = match.prospect
    if prospect is None:
        return ["soft bounce for an unknown address: nothing to count"]
    earlier = (
        InboundEmail.objects.filter(prospect=prospect, label=Label.BOUNCE_SOFT)
        .exclude(pk=inbound.pk)
        .count()
    )
    count, limit = earlier + 1, settings.REPLY_SOFT_BOUNCE_LIMIT
    if count < limit:
        return [f"soft bounce {count} of {limit}: the next step retries"]
    address = _bounced_address(verdict, match)
    reason = f"{count} soft bounces"
    return [_suppress(address, reason)] + _prospect_bounced(
        prospect, address, email_status=EmailStatus.RISKY, reason=reason
    )


def _auto_reply(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    if not verdict.details.get("out_of_office"):
        return ["automatic reply: the sequence continues"]
    if match.prospect is None:
        return ["out of office from an unknown sender"]
    back = verdict.details.get("return_date")
    resume_at = ooo_resume_at(
        back=date.fromisoformat(back) if back else None,
        received=inbound.received_at or timezone.now(),
        zone=match.prospect.timezone,
    )
    paused = (
        Enrollment.objects.filter(prospect=match.prospect, status__in=LIVE)
        .exclude(status=Enrollment.Status.PAUSED, paused_until=None)
        .update(
            status=Enrollment.Status.PAUSED,
            paused_until=resume_at,
            next_send_at=Greatest(F("next_send_at"), resume_at),
            updated_at=timezone.now(),
        )
    )
    return [f"{paused} sequence(s) paused until {resume_at.isoformat()}"]


def ooo_resume_at(*, back: date | None, received: datetime, zone: str) -> datetime:
    """When the next step may go: the morning after the return date (prospect's time).

    Without a return date the pause lasts REPLY_OOO_DEFAULT_PAUSE_DAYS.
    """
    try:
        tz = ZoneInfo(zone) if zone else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        tz = timezone.get_default_timezone()
    if back is None:
        default_days = timedelta(days=settings.REPLY_OOO_DEFAULT_PAUSE_DAYS)
        back = received.astimezone(tz).date() + default_days
    resume_day = back + timedelta(days=settings.REPLY_OOO_RESUME_DELAY_DAYS)
    return datetime.combine(resume_day, time(9, 0), tzinfo=tz)


def enrollments_resume_after_ooo(*, now: datetime | None = None) -> int:
    """Resume sequences paused for an out-of-office whose return has come.

    Only pauses with `paused_until` are touched: an operator's pause has none.
    """
    return Enrollment.objects.filter(
        status=Enrollment.Status.PAUSED, paused_until__lte=now or timezone.now()
    ).update(status=Enrollment.Status.ACTIVE, paused_until=None, updated_at=timezone.now())


def _notify(inbound_id: int, label: str) -> None:
    inbound = InboundEmail.objects.select_related("prospect").defer("raw").get(pk=inbound_id)
    who = str(inbound.prospect) if inbound.prospect else inbound.from_email
    alert(
        "interested_reply",
        f"{who} replied ({label}): {inbound.subject[:120]}",
        dedup_key=f"inbound:{inbound_id}",
        inbound_id=inbound_id,
        label=label,
    )
