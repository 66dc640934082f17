"""What a trusted bounce or spam complaint does (see reasons.py for whose fault a bounce is).

- hard bounce (the address is dead): our message marked bounced, the inbox's bounce
  count +1 and bounce protection; the address suppressed; the prospect invalid, its
  sequences stopped, stage bounced.
- soft, the recipient's mailbox (full, disabled): counted; at REPLY_SOFT_BOUNCE_LIMIT
  the sequences stop and the address is marked risky, not suppressed (it may work again).
- soft, about us (blocklisted, authentication failed): the sending inbox is paused (no
  e-mail at all) and an operator alerted; nothing about the prospect changes.
- soft, anything else (rate limit, content refused, network, delayed): recorded only;
  a content refusal alerts an operator.
- complaint: the address suppressed, sequences stopped, stage unsubscribed; it counts
  toward the inbox's complaint rate (complaint protection) and alerts an operator.

Only called for a trusted match (threading.py): a report that names nothing we sent
changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.enrollments import enrollments_stop
from crm.models import EmailStatus, Inbox, Stage
from jengu.alerts import alert
from outreach.models import EmailMessage, InboundEmail
from outreach.replies.classify import Verdict
from outreach.replies.prospect_changes import address_suppress, prospect_stop, stage_move
from outreach.replies.threading import ThreadMatch
from outreach.sending.bounces import bounce_protection_check, complaint_protection_check
from outreach.sending.reasons import Party, reason_named
from outreach.sending.rules import inbox_pause_alerted

Label = InboundEmail.Label


def _recipient(verdict: Verdict, match: ThreadMatch) -> str:
    outbound = match.outbound
    return (outbound.to_email if outbound else verdict.details.get("recipient", "")).lower()


def hard_bounce(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    address = _recipient(verdict, match)
    reason = f"hard bounce {verdict.details.get('status', '')}".strip()
    done = []
    if match.outbound is not None and _outbound_mark_bounced(match.outbound, verdict):
        done.append("message marked bounced, inbox bounce count +1")
    if address:
        done.append(address_suppress(address, reason))
    prospect = match.prospect
    if prospect is not None and prospect.email.lower() == address:
        done += prospect_stop(
            prospect, to_stage=Stage.BOUNCED, reason=reason, email_status=EmailStatus.INVALID
        )
    return done


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
    message = EmailMessage.objects.select_related("inbox", "campaign").get(pk=message_id)
    bounce_protection_check(inbox=message.inbox, campaign=message.campaign)


def soft_bounce(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    reason = reason_named(verdict.details.get("reason") or "undefined")
    party = Party(verdict.details.get("party") or reason.party)
    if reason.about_us:
        return _pause_sending_inbox(inbound, verdict, match, reason.name)
    if party is Party.MAILBOX:
        return _mailbox_bounce(inbound, verdict, match, reason.name)
    if party is Party.CONTENT and match.outbound is not None:
        _alert_content_refused(match.outbound, verdict, reason.name)
        return [f"refused for its content ({reason.name}): operator alerted, prospect unchanged"]
    return [
        f"soft bounce ({reason.name}, {party.value}): not the recipient's fault, nothing changed"
    ]


def _pause_sending_inbox(
    inbound: InboundEmail, verdict: Verdict, match: ThreadMatch, reason: str
) -> list[str]:
    inbox = match.outbound.inbox if match.outbound else None
    if inbox is None:
        return [f"{reason}: no sending inbox known, nothing paused"]
    diagnostic = verdict.details.get("diagnostic", "")[:200]
    why = f"{reason} reported by the receiving server: {diagnostic}"
    if inbox_pause_alerted(
        inbox=inbox, reason=reason, why=why, actor="rule:bounce", inbound_id=inbound.pk
    ):
        return [f"inbox {inbox.email} paused ({reason}), operator alerted"]
    return [f"inbox {inbox.email} already paused"]


def _mailbox_bounce(
    inbound: InboundEmail, verdict: Verdict, match: ThreadMatch, reason: str
) -> list[str]:
    prospect = match.prospect
    if prospect is None:
        return [f"{reason} for an address of no prospect: nothing to count"]
    earlier = (
        InboundEmail.objects.filter(
            prospect=prospect, label=Label.BOUNCE_SOFT, details__party=Party.MAILBOX.value
        )
        .exclude(pk=inbound.pk)
        .count()
    )
    count, limit = earlier + 1, settings.REPLY_SOFT_BOUNCE_LIMIT
    if count < limit:
        return [f"{reason}: soft bounce {count} of {limit}, the next step retries"]
    return prospect_stop(
        prospect,
        to_stage=Stage.BOUNCED,
        reason=f"{count} soft bounces ({reason})",
        email_status=EmailStatus.RISKY,
    )


def _alert_content_refused(outbound: EmailMessage, verdict: Verdict, reason: str) -> None:
    domain = outbound.to_email.rpartition("@")[2]
    inbox = outbound.inbox.email if outbound.inbox else "?"
    transaction.on_commit(
        lambda: alert(
            "content_refused",
            f"{domain} refused an e-mail from {inbox} for its content ({reason}): "
            f"{verdict.details.get('diagnostic', '')[:200]}",
            dedup_key=f"content:{inbox}:{domain}:{reason}",
            message_id=outbound.pk,
        )
    )


def complaint(inbound: InboundEmail, verdict: Verdict, match: ThreadMatch) -> list[str]:
    feedback_type = verdict.details.get("feedback_type", "abuse")
    if feedback_type == "not-spam":
        return ["not-spam report: nothing changed"]
    if feedback_type == "auth-failure":
        return _pause_sending_inbox(inbound, verdict, match, "auth_failure")
    address = _recipient(verdict, match)
    done = [address_suppress(address, f"spam complaint ({feedback_type})")] if address else []
    prospect = match.prospect
    if prospect is not None:
        stopped = enrollments_stop(prospect=prospect, reason="spam complaint")
        done += [
            f"{stopped} sequence(s) stopped",
            stage_move(prospect, Stage.UNSUBSCRIBED, "marked our e-mail as spam"),
        ]
    inbox = match.outbound.inbox if match.outbound else None
    transaction.on_commit(lambda: _after_complaint(inbound.pk, address, inbox))
    return done + ["counted toward the inbox's complaint rate"]


def _after_complaint(inbound_id: int, address: str, inbox: Inbox | None) -> None:
    alert(
        "spam_complaint",
        f"{address} marked an e-mail from {inbox.email if inbox else 'us'} as spam.",
        dedup_key=f"complaint:{inbound_id}",
        inbound_id=inbound_id,
    )
    if inbox is not None:
        complaint_protection_check(inbox=inbox)
