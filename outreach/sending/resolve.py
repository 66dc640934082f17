"""Settling an `uncertain` send: a person (or the Sent folder) says whether it arrived.

"Delivered" records it exactly as the sender records an accepted e-mail (the
sequence advances, the prospect is contacted, `EmailSent` goes out). "Not
delivered" queues it again and emits `SendEmail`; the normal fence then sends it
once, with a fresh Message-ID. Either way the row says who decided and when.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from jengu.bus import emit
from outreach.models import EmailMessage

from .records import message_record_sent
from .warmup import domain_release, send_day, warmup_release

Status = EmailMessage.Status


def message_resolve_uncertain(*, message: EmailMessage, delivered: bool, by: str) -> bool:
    """Settle one uncertain message; False if it is not (or no longer) uncertain."""
    if delivered:
        return message_record_sent(
            message=message,
            sent_at=message.updated_at,  # when the hand-over broke: the closest we know
            note=f"marked delivered by {by}",
            resolved_by=by,
        )
    return _send_again(message=message, by=by)


@transaction.atomic
def _send_again(*, message: EmailMessage, by: str) -> bool:
    now = timezone.now()
    requeued = EmailMessage.objects.filter(pk=message.pk, status=Status.UNCERTAIN).update(
        status=Status.QUEUED,
        error=f"not delivered according to {by}; queued to send again",
        resolved_by=by[:150],
        resolved_at=now,
        updated_at=now,
    )
    if not requeued:
        return False
    if send_day(message.updated_at) == send_day(now):
        # The failed attempt still holds today's inbox and domain slots and the new
        # attempt reserves its own. On an earlier day the slot stays counted there:
        # a day's count may err high (one send fewer), never low (over the cap).
        transaction.on_commit(lambda: _slots_release(message))
    emit("SendEmail", {"message_id": message.pk})
    return True


def _slots_release(message: EmailMessage) -> None:
    day = send_day(message.updated_at)
    if message.inbox is not None:
        warmup_release(inbox=message.inbox, day=day)
    domain = message.to_email.rpartition("@")[2].lower()
    if domain:
        domain_release(domain=domain, day=day)
