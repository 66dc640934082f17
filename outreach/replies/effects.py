"""What a classified inbound message does to the CRM.

A message changes a prospect, an inbox or a suppression only on a trusted match
(threading.py) or a person's label. Anything else is kept for review: an
unverified reply lands in "needs a human" with its prospect shown, an unmatched
bounce or complaint is stored for an operator. Every effect is safe to apply
twice (prospect_changes.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.enrollments import enrollments_pause_until, enrollments_stop
from crm.models import Enrollment, Stage
from jengu.alerts import alert
from outreach.models import InboundEmail
from outreach.replies import report_effects
from outreach.replies.classify import Verdict
from outreach.replies.prospect_changes import address_suppress, stage_move
from outreach.replies.threading import ThreadMatch

logger = logging.getLogger(__name__)

Label = InboundEmail.Label
# Replies a person should answer (the dashboard's "needs a human" list).
NEEDS_HUMAN = frozenset({Label.INTERESTED, Label.MEETING, Label.QUESTION, Label.OTHER})
NOTIFY = frozenset({Label.INTERESTED, Label.MEETING})
REPORTS = frozenset({Label.BOUNCE_HARD, Label.BOUNCE_SOFT, Label.COMPLAINT})
Handler = Callable[[InboundEmail, Verdict, ThreadMatch], list[str]]


def effects_apply(*, inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    """Apply the verdict's effects inside the caller's transaction; return what was done."""
    trusted = match.trusted or verdict.method == InboundEmail.Method.MANUAL
    inbound.needs_human = verdict.label in NEEDS_HUMAN or (
        verdict.is_human and (match.prospect is None or not trusted)
    )
    if not trusted:
        return _untrusted(verdict, match)
    handler: Handler = {
        Label.BOUNCE_HARD: report_effects.hard_bounce,
        Label.BOUNCE_SOFT: report_effects.soft_bounce,
        Label.COMPLAINT: report_effects.complaint,
        Label.AUTO_REPLY: _auto_reply,
        Label.UNSUBSCRIBE: _unsubscribe,
    }.get(verdict.label, _human_reply)
    done = handler(inbound, verdict, match)
    if verdict.label in NOTIFY:
        transaction.on_commit(lambda: _notify(inbound.pk, verdict.label))
    return done


def _untrusted(verdict: Verdict, match: ThreadMatch) -> list[str]:
    if verdict.label in REPORTS:
        return [f"unmatched report, stored for an operator: {match.why}"]
    if verdict.label == Label.UNSUBSCRIBE:
        return [f"opt-out held for a person to confirm (relabel to apply): {match.why}"]
    if match.prospect is None:
        return ["unmatched sender: kept for review"]
    return [f"not applied, kept for review: {match.why}"]


def _human_reply(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    if match.prospect is None:
        return ["unmatched sender: kept for review"]
    reason = f"reply: {verdict.label}"
    stopped = enrollments_stop(
        prospect=match.prospect, status=Enrollment.Status.REPLIED, reason=reason
    )
    return [f"{stopped} sequence(s) stopped", stage_move(match.prospect, Stage.REPLIED, reason)]


def _unsubscribe(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    address = match.prospect.email if match.prospect else inbound.from_email
    done = [address_suppress(address, "asked to unsubscribe in a reply")] if address else []
    if match.prospect is not None:
        stopped = enrollments_stop(
            prospect=match.prospect, status=Enrollment.Status.REPLIED, reason="reply: unsubscribe"
        )
        done.append(f"{stopped} sequence(s) stopped")
        done.append(stage_move(match.prospect, Stage.UNSUBSCRIBED, "asked to unsubscribe"))
    return done


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
    paused = enrollments_pause_until(prospect=match.prospect, until=resume_at)
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
