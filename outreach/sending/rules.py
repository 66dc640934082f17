"""Auto-pause rules that act the moment a receiving server blames our sender.

A refusal at SMTP time that names our authentication or reputation (Microsoft's
`550 5.7.515`, Gmail's `5.7.26`/`5.7.27` or any SPF/DKIM/DMARC failure, a blocklist)
is not the recipient's fault: the prospect is left alone and the inbox is paused
at once (`Inbox.paused_reason`: no e-mail at all, follow-ups too) until an
operator fixes the cause and clears the reason. The same reasons arriving later
as bounce messages pause the inbox through the replies pipeline.
"""

from __future__ import annotations

import re

from django.db import transaction

from crm.inbox_services import inbox_pause
from crm.models import Inbox
from jengu.alerts import alert
from outreach.deliverability_models import DeliverabilityLog

from .deliverability_log import deliverability_log
from .reasons import bounce_reason

_ENHANCED = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")


def refusal_blames_sender(detail: str) -> str:
    """The reason ("auth_failure", "blocked") when an SMTP refusal is about us, else ''."""
    status = _ENHANCED.search(detail)
    reason = bounce_reason(status=status.group(0) if status else "", diagnostic=detail)
    return reason.name if reason.about_us else ""


def inbox_pause_alerted(*, inbox: Inbox, reason: str, why: str, actor: str, **context) -> bool:
    """Pause `inbox` entirely, log it and alert an operator (once per inbox and reason).

    False when it was already paused (the first reason is kept).
    """
    if not inbox_pause(inbox=inbox, reason=why):
        return False
    deliverability_log(kind=DeliverabilityLog.Kind.AUTO_PAUSE, actor=actor, inbox=inbox, detail=why)
    transaction.on_commit(
        lambda: alert(
            "inbox_paused",
            f"Inbox {inbox.email} paused: {why}. Fix the cause, then clear "
            "'paused reason' in admin.",
            dedup_key=f"inbox:{inbox.pk}:{reason}",
            **context,
        )
    )
    return True


def inbox_pause_for_refusal(*, inbox: Inbox, reason: str, detail: str) -> bool:
    """Pause `inbox` for an SMTP refusal that blames it; False when it was already paused."""
    why = f"{reason} at SMTP time: {detail[:300]}"
    return inbox_pause_alerted(inbox=inbox, reason=reason, why=why, actor="rule:smtp_refusal")
