"""The approval queue: a person approves, edits or rejects composed e-mails."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.enrollments import enrollment_stop
from jengu.bus import emit
from outreach.models import EmailMessage


class NotPendingApproval(ValueError):
    """The message was already approved, rejected or sent (e.g. by another reviewer)."""


def _claim(*, message: EmailMessage, status: str, by: str, note: str = "") -> None:
    # One conditional UPDATE: two reviewers clicking at once cannot both win.
    claimed = EmailMessage.objects.filter(
        pk=message.pk, status=EmailMessage.Status.PENDING_APPROVAL
    ).update(
        status=status,
        reviewed_by=by[:150],
        reviewed_at=timezone.now(),
        review_note=note[:500],
        updated_at=timezone.now(),
    )
    if not claimed:
        current = EmailMessage.objects.filter(pk=message.pk).values_list("status", flat=True)
        raise NotPendingApproval(
            f"message {message.pk} is {current.first() or 'gone'}, not pending approval"
        )
    message.refresh_from_db()


@transaction.atomic
def message_approve(*, message: EmailMessage, by: str) -> EmailMessage:
    """Queue a reviewed message for sending (SendEmail is emitted on commit)."""
    _claim(message=message, status=EmailMessage.Status.QUEUED, by=by)
    emit("SendEmail", {"message_id": message.pk})
    return message


@transaction.atomic
def message_reject(*, message: EmailMessage, by: str, reason: str) -> EmailMessage:
    """Never send this message, and stop its sequence (the prospect was judged unfit)."""
    _claim(message=message, status=EmailMessage.Status.REJECTED, by=by, note=reason)
    if message.enrollment_id:
        enrollment_stop(
            enrollment_id=message.enrollment_id, reason=f"message rejected by {by}: {reason}"
        )
    return message


@transaction.atomic
def message_edit(*, message: EmailMessage, subject: str, body: str) -> EmailMessage:
    """Save a reviewer's wording; only while the message still waits for approval."""
    edited = EmailMessage.objects.filter(
        pk=message.pk, status=EmailMessage.Status.PENDING_APPROVAL
    ).update(subject=subject[:998], body=body, updated_at=timezone.now())
    if not edited:
        raise NotPendingApproval(f"message {message.pk} is no longer pending approval")
    message.refresh_from_db()
    return message
