"""Writing a send's outcome: the message, its enrollment, the prospect and the inbox."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from crm.enrollments import (
    ADVANCE_AFTER_SEND_CTES,
    ADVANCE_PARAMS,
    enrollment_mark_sent,
    enrollment_stop,
    enrollments_stop,
)
from crm.models import EmailStatus, Inbox, Prospect, Stage
from crm.services import prospect_move_if_allowed
from jengu.apikeys.webhooks import webhooks_publish
from jengu.bus import emit
from jengu.sql import fetch_row
from outreach.models import EmailMessage, Suppression
from outreach.suppression import suppression_add

SENDER = "actor:SendEmail"
Status = EmailMessage.Status


# One statement records a send (the ORM version compiled for ~7 ms per send, see
# jengu/sql.py): the message turns sent (settled by `resolved_by` when given), its
# inbox remembers when it last sent, and its sequence moves past the step (the
# enrollment's part is crm.enrollments', which owns every enrollment write).
_RECORD_SENT_SQL = f"""
WITH sent AS (
    UPDATE {EmailMessage._meta.db_table} SET
        status = %(sent)s, sent_at = %(sent_at)s, error = %(note)s, updated_at = %(now)s,
        resolved_by = CASE WHEN %(resolved_by)s = '' THEN resolved_by ELSE %(resolved_by)s END,
        resolved_at = CASE WHEN %(resolved_by)s = '' THEN resolved_at ELSE %(now)s END
    WHERE id = %(id)s AND status = ANY(%(statuses)s)
    RETURNING inbox_id, enrollment_id, step
), inbox AS (
    UPDATE {Inbox._meta.db_table} SET last_sent_at = %(sent_at)s
    WHERE id = (SELECT inbox_id FROM sent)
), {ADVANCE_AFTER_SEND_CTES}
SELECT (SELECT count(*) FROM sent), (SELECT count(*) FROM advanced)
"""  # noqa: S608 - table names from the models


def _webhook_data(message: EmailMessage, *, sent_at: datetime) -> dict[str, object]:
    """The `data` of `email.*` events: which message, to whom, in which campaign step."""
    return {
        "message_id": message.pk,
        "prospect_id": message.prospect_id,
        "campaign_id": message.campaign_id,
        "step": message.step,
        "inbox_id": message.inbox_id,
        "to": message.to_email,
        "subject": message.subject,
        "sent_at": sent_at.isoformat(),
    }


@transaction.atomic
def message_record_sent(
    *, message: EmailMessage, sent_at: datetime, note: str = "", resolved_by: str = ""
) -> bool:
    """Record an accepted e-mail and emit `EmailSent`; False if it was recorded before.

    The sender records from `sending` (or from `uncertain`, when the sweeper gave up
    on a slow worker that did get its 250). With `resolved_by` it settles an
    `uncertain` message only (an operator or the Sent-folder lookup decided).
    """
    statuses = [Status.UNCERTAIN] if resolved_by else [Status.SENDING, Status.UNCERTAIN]
    params = {
        "id": message.pk,
        "statuses": [status.value for status in statuses],
        "sent": Status.SENT.value,
        "sent_at": sent_at,
        "note": note,
        "resolved_by": resolved_by[:150],
        "now": timezone.now(),
        **ADVANCE_PARAMS,
    }
    recorded, advanced = fetch_row(_RECORD_SENT_SQL, params)
    if not recorded:
        return False
    if message.enrollment_id and message.step is not None and not advanced:
        enrollment_mark_sent(enrollment_id=message.enrollment_id, sent_at=sent_at)
    if message.prospect:
        prospect_move_if_allowed(
            prospect=message.prospect,
            to_stage=Stage.CONTACTED,
            changed_by=SENDER,
            reason="first e-mail sent",
        )
    emit("EmailSent", {"message_id": message.pk})
    webhooks_publish(event="email.sent", data=_webhook_data(message, sent_at=sent_at))
    return True


@transaction.atomic
def message_record_bounce(*, message: EmailMessage, detail: str) -> None:
    """A hard bounce at SMTP time: the address is invalid, suppressed, the sequence stops."""
    now = timezone.now()
    EmailMessage.objects.filter(pk=message.pk).update(
        status=Status.BOUNCED, error=detail, sent_at=now, updated_at=now
    )
    prospect = message.prospect
    Prospect.objects.filter(pk=prospect.pk).update(email_status=EmailStatus.INVALID, updated_at=now)
    suppression_add(
        value=prospect.email, kind=Suppression.Kind.EMAIL, reason="hard bounce", source="send"
    )
    enrollments_stop(prospect=prospect, reason="hard bounce")
    prospect_move_if_allowed(
        prospect=prospect, to_stage=Stage.BOUNCED, changed_by=SENDER, reason=detail[:500]
    )
    if message.inbox_id:
        Inbox.objects.filter(pk=message.inbox_id).update(bounce_count=F("bounce_count") + 1)
    webhooks_publish(event="email.bounced", data=_webhook_data(message, sent_at=now))


@transaction.atomic
def message_record_refusal(
    *, message: EmailMessage, reason: str, status: str = Status.REJECTED, stop: bool = True
) -> None:
    """This message will never go out: we refused it (`rejected`, e.g. suppressed) or
    the server did (`failed`). With `stop` its sequence ends there, with the reason
    for a person to see; nothing else about the prospect changes."""
    now = timezone.now()
    EmailMessage.objects.filter(pk=message.pk, status__in=[Status.QUEUED, Status.SENDING]).update(
        status=status, error=reason[:2000], updated_at=now
    )
    if stop and message.enrollment_id:
        enrollment_stop(enrollment_id=message.enrollment_id, reason=reason)


def message_record_hold(*, message: EmailMessage, reason: str, from_sending: bool = False) -> None:
    """Leave (or put back) the message queued with the reason it waits."""
    statuses = [Status.SENDING] if from_sending else [Status.QUEUED]
    EmailMessage.objects.filter(pk=message.pk, status__in=statuses).update(
        status=Status.QUEUED, error=reason[:2000], updated_at=timezone.now()
    )


def message_record_uncertain(*, message: EmailMessage, detail: str) -> None:
    """The server may have taken it: never resend blindly; the sweeper or a person decides."""
    EmailMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(
        status=Status.UNCERTAIN, error=detail[:2000], updated_at=timezone.now()
    )


def inbox_record_error(*, inbox: Inbox, detail: str) -> None:
    Inbox.objects.filter(pk=inbox.pk).update(last_error=detail[:2000], last_error_at=timezone.now())
