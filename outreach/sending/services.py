"""Sending one message exactly once: `message_send(*, message) -> SendResult`.

The order matters. Under the prospect lock the message is checked again
(suppression, eligibility, window, caps), a slot is reserved on an inbox, and
only then the row is fenced with `UPDATE … SET status='sending' WHERE status=
'queued'`: whoever wins that update is the only one to talk to the SMTP server.
The fence lives in PostgreSQL, so a lost or expired Redis lock can never lead
to a second e-mail. The crash window that is left (between the server's 250
and our commit) leaves the row `sending`; the sweeper turns it `uncertain`.

Redis failing mid-send (a restart, a failover) never strands a message: before
DATA began the row goes back to `queued` and the error is raised for a retry;
once the server answered, the outcome is written to PostgreSQL first and the
Redis bookkeeping after it (slots, breaker counts) is best effort.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from crm.models import Campaign, Enrollment, Inbox, Prospect
from crm.regions import prospect_region
from jengu.metrics import timed
from jengu.redis_helpers import ProspectLock, redis_best_effort
from jengu.sql import execute, fetch_row, instance_with_related, select_list
from outreach.models import EmailMessage

from . import transport
from .bounces import bounce_protection_check
from .eligibility import hold_reason, refusal_for
from .handover import HandoverRevoked, handover_pending, handover_started
from .message import email_build, message_id_make
from .nudge import nudge_after_probe, nudge_probe_waiters
from .records import (
    inbox_record_error,
    message_record_bounce,
    message_record_hold,
    message_record_refusal,
    message_record_sent,
    message_record_uncertain,
)
from .rotation import Pick, Slot, inbox_breaker, inbox_pick, inbox_retry_seconds
from .rules import inbox_pause_for_refusal, refusal_blames_sender
from .warmup import domain_release, domain_reserve, send_day

logger = logging.getLogger(__name__)
Status = EmailMessage.Status

# Seconds to wait for another worker sending to the same prospect.
LOCK_WAIT_SECONDS = 5.0
# A 4xx on RCPT (greylisting, full mailbox): try again after this long.
TEMPORARY_REFUSAL_RETRY = 15 * 60.0


@dataclass(frozen=True)
class SendResult:
    """What happened. `status`: sent | skipped | held | rejected | failed | bounced |
    uncertain. `retry_after` (seconds) says when a held message is worth another try;
    None means "when something changes" (the sweeper nudges it)."""

    status: str
    reason: str = ""
    retry_after: float | None = None
    inbox_id: int | None = None


def _seconds_until(moment: datetime | None) -> float | None:
    if moment is None:
        return None
    return max((moment - timezone.now()).total_seconds(), 1.0)


def _lock_ttl() -> float:
    # Long enough for a connect and a DATA on a few inboxes, each bounded by the timeout.
    return settings.SEND_SMTP_TIMEOUT_SECONDS * 4 + 10


def message_send(*, message: EmailMessage) -> SendResult:
    """Send a `queued` message once, or say why not. Safe to call any number of times."""
    if message.status != Status.QUEUED:
        return SendResult("skipped", f"status is {message.status}")
    lock = ProspectLock(message.prospect_id, ttl=_lock_ttl())
    if not lock.acquire(timeout=LOCK_WAIT_SECONDS):
        return SendResult("held", "another send to this prospect is under way", 5.0)
    try:
        return _send_locked(message_pk=message.pk, lock=lock)
    finally:
        with redis_best_effort("releasing the prospect lock"):
            lock.release()


# The message with its prospect, enrollment and campaign, as select_related loads them.
_LOAD_SQL = f"""
SELECT {select_list(EmailMessage, "m")}, {select_list(Prospect, "p")},
       {select_list(Enrollment, "e")}, {select_list(Campaign, "c")}
FROM {EmailMessage._meta.db_table} AS m
LEFT JOIN {Prospect._meta.db_table} AS p ON p.id = m.prospect_id
LEFT JOIN {Enrollment._meta.db_table} AS e ON e.id = m.enrollment_id
LEFT JOIN {Campaign._meta.db_table} AS c ON c.id = m.campaign_id
WHERE m.id = %s
"""  # noqa: S608 - table names from the models


def message_load(message_pk: int) -> EmailMessage | None:
    """The message and what a send reads of it, in one statement (see jengu/sql.py)."""
    row = fetch_row(_LOAD_SQL, [message_pk])
    if row is None:
        return None
    return instance_with_related(
        row, EmailMessage, prospect=Prospect, enrollment=Enrollment, campaign=Campaign
    )


def _send_locked(*, message_pk: int, lock: ProspectLock) -> SendResult:
    message = message_load(message_pk)
    if message is None:
        return SendResult("skipped", "the message no longer exists")
    if message.status != Status.QUEUED:
        return SendResult("skipped", f"status is {message.status}")
    refusal = refusal_for(message)
    if refusal:
        message_record_refusal(message=message, reason=refusal.reason, stop=refusal.stop)
        return SendResult("rejected", refusal.reason)
    now = timezone.now()
    hold = hold_reason(message, now)
    if hold:
        message_record_hold(message=message, reason=hold.reason)
        return SendResult("held", hold.reason, _seconds_until(hold.until))
    domain = message.prospect.email.rpartition("@")[2].lower()
    day = send_day(now)
    if not domain_reserve(domain=domain, day=day):
        reason = f"{settings.SEND_MAX_PER_DOMAIN_PER_DAY} e-mails to {domain} today already"
        message_record_hold(message=message, reason=reason)
        tomorrow = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo)
        return SendResult("held", reason, _seconds_until(tomorrow))
    handover = Handover(message.pk)
    try:
        result = _send_through_inboxes(message, lock, handover)
    except Exception as exc:
        handover.put_back_if_untouched(message, exc)
        raise
    if result.status not in ("sent", "bounced", "uncertain"):
        with redis_best_effort("giving back the domain slot"):
            domain_release(domain=domain, day=day)
    return result


@dataclass
class Handover:
    """How far this send got: the row fenced `sending`, and DATA begun but unanswered."""

    message_pk: int
    fenced: bool = False
    in_doubt: bool = False
    failed: list[Inbox] = field(default_factory=list)

    def begin_data(self) -> None:
        """Right before DATA: take the hand-over marker (see handover.py)."""
        handover_started(message_pk=self.message_pk)
        self.in_doubt = True

    def put_back_if_untouched(self, message: EmailMessage, exc: Exception) -> None:
        """An error broke the send: if DATA never began, the row is queued again."""
        if self.fenced and not self.in_doubt:
            reason = f"interrupted before the hand-over: {type(exc).__name__}: {exc}"
            message_record_hold(message=message, reason=reason, from_sending=True)


def _previous_sent(message: EmailMessage) -> tuple[int | None, str]:
    """Inbox and Message-ID of this sequence's latest sent step.

    Follow-ups keep that sender and thread under its Message-ID. An enrollment
    that never sent (`last_sent_at` unset) has none: its first step is the
    common case and skips the lookup.
    """
    if message.enrollment is None or message.enrollment.last_sent_at is None:
        return None, ""
    previous = (
        EmailMessage.objects.filter(
            enrollment_id=message.enrollment_id, status=Status.SENT, step__lt=message.step
        )
        .order_by("-step")
        .values_list("inbox_id", "message_id")
        .first()
    )
    return previous or (None, "")


def _send_through_inboxes(
    message: EmailMessage, lock: ProspectLock, handover: Handover
) -> SendResult:
    """Try inboxes in rotation order until one takes the message or none is left."""
    prefer, thread_id = _previous_sent(message)
    if thread_id and not message.in_reply_to:
        message.in_reply_to = thread_id
    region = prospect_region(message.prospect)
    while True:
        pick = inbox_pick(
            campaign=message.campaign,
            first_step=message.step == 1,
            exclude=[inbox.pk for inbox in handover.failed],
            prefer=prefer,
            region=region,
        )
        if pick.slot is None:
            return _hold_without_inbox(message, pick, handover)
        result = _attempt(message, pick.slot, handover)
        if result is not None:
            return result
        handover.failed.append(pick.slot.inbox)
        lock.extend()


def _hold_without_inbox(message: EmailMessage, pick: Pick, handover: Handover) -> SendResult:
    """No inbox can take it now: wait until the first one may (a failed one's breaker
    decides when it is worth another try, a probe that closes a breaker wakes it)."""
    reason, retry_after = f"no inbox free ({pick.reason})", pick.retry_after
    if handover.failed:
        reason = f"every inbox failed; last: {message.error}"
        retry_after = min(retry_after, *map(inbox_retry_seconds, handover.failed))
    message_record_hold(message=message, reason=reason, from_sending=handover.fenced)
    if pick.probing:
        nudge_after_probe(message_id=message.pk, inbox_ids=pick.probing)
    return SendResult("held", reason, retry_after)


_FENCE_SQL = f"""
UPDATE {EmailMessage._meta.db_table} SET
    status = %(sending)s, inbox_id = %(inbox)s, from_email = %(from_email)s,
    to_email = %(to_email)s, message_id = %(message_id)s, in_reply_to = %(in_reply_to)s,
    updated_at = %(now)s
WHERE id = %(id)s AND status = %(from_status)s
"""  # noqa: S608 - table names from the models


def _fence(message: EmailMessage, slot: Slot, message_id: str, *, fenced: bool) -> bool:
    """Claim the row for this attempt; False if someone else already did."""
    inbox = slot.inbox
    claimed = execute(
        _FENCE_SQL,
        {
            "id": message.pk,
            "from_status": (Status.SENDING if fenced else Status.QUEUED).value,
            "sending": Status.SENDING.value,
            "inbox": inbox.pk,
            "from_email": inbox.email,
            "to_email": message.prospect.email,
            "message_id": message_id,
            "in_reply_to": message.in_reply_to,
            "now": timezone.now(),
        },
    )
    if claimed:
        message.inbox, message.from_email, message.message_id = inbox, inbox.email, message_id
        message.to_email = message.prospect.email
    return bool(claimed)


def _attempt(message: EmailMessage, slot: Slot, handover: Handover) -> SendResult | None:
    """One SMTP/API hand-over on `slot`; None means "this inbox failed, try another"."""
    inbox = slot.inbox
    message_id = message_id_make(inbox=inbox)
    handover_pending(message_pk=message.pk)
    if not _fence(message, slot, message_id, fenced=handover.fenced):
        slot.release()
        return SendResult("skipped", "another worker took this message")
    handover.fenced = True
    email = email_build(message=message, inbox=inbox, message_id=message_id)
    try:
        with timed("email_send_seconds", inbox_id=inbox.pk):
            outcome = transport.transport_send(
                inbox=inbox, email=email, before_data=handover.begin_data
            )
    except HandoverRevoked as exc:
        # Nothing was handed over; the sweeper (or a person) owns the row now.
        message_record_hold(message=message, reason=str(exc), from_sending=True)
        slot.release()
        return SendResult("held", str(exc), 5.0, inbox.pk)
    handover.in_doubt = False  # the server answered (or never took DATA): we know
    result = _record(message, slot, outcome)
    _count_for_breaker(inbox, outcome)
    return result


def _count_for_breaker(inbox: Inbox, outcome: transport.TransportResult) -> None:
    """Count the outcome in the inbox's breaker; a probe that closes it wakes its waiters."""
    with redis_best_effort(f"counting inbox {inbox.pk}'s outcome in its breaker"):
        breaker = inbox_breaker(inbox)
        if outcome.outcome in (transport.INBOX_FAILED, transport.UNCERTAIN):
            breaker.record_failure()
        elif breaker.record_success():
            woken = nudge_probe_waiters(inbox_id=inbox.pk)
            logger.info("inbox %s is back: %d held e-mails nudged", inbox.pk, woken)


# Refusals a receiving server may word as being about our sender, not the recipient.
REFUSALS = (transport.HARD_BOUNCE, transport.REJECTED, transport.DEFERRED)


def _refused_for_sender(
    message: EmailMessage, slot: Slot, outcome: transport.TransportResult, blame: str
) -> None:
    """The server refused our sender (authentication, blocklist): the recipient is fine.

    The inbox is paused at once and the message tries the campaign's other inboxes.
    """
    inbox_pause_for_refusal(inbox=slot.inbox, reason=blame, detail=outcome.detail)
    inbox_record_error(inbox=slot.inbox, detail=outcome.detail)
    slot.release()
    message.error = outcome.detail
    logger.warning("inbox %s refused for %s: %s", slot.inbox.pk, blame, outcome.detail)


def _record(
    message: EmailMessage, slot: Slot, outcome: transport.TransportResult
) -> SendResult | None:
    """Write the outcome to PostgreSQL, then give back the slot if nothing left."""
    inbox_id = slot.inbox.pk
    if outcome.outcome in REFUSALS and (blame := refusal_blames_sender(outcome.detail)):
        return _refused_for_sender(message, slot, outcome, blame)
    match outcome.outcome:
        case transport.ACCEPTED:
            message_record_sent(message=message, sent_at=timezone.now())
            return SendResult("sent", outcome.detail, inbox_id=inbox_id)
        case transport.HARD_BOUNCE:
            message_record_bounce(message=message, detail=outcome.detail)
            bounce_protection_check(inbox=slot.inbox, campaign=message.campaign)
            return SendResult("bounced", outcome.detail, inbox_id=inbox_id)
        case transport.UNCERTAIN:
            message_record_uncertain(message=message, detail=outcome.detail)
            inbox_record_error(inbox=slot.inbox, detail=outcome.detail)
            logger.warning("message %s may have been sent: %s", message.pk, outcome.detail)
            return SendResult("uncertain", outcome.detail, inbox_id=inbox_id)
        case transport.DEFERRED:
            message_record_hold(message=message, reason=outcome.detail, from_sending=True)
            slot.release()
            return SendResult("held", outcome.detail, TEMPORARY_REFUSAL_RETRY, inbox_id)
        case transport.REJECTED:
            message_record_refusal(message=message, reason=outcome.detail, status=Status.FAILED)
            slot.release()
            return SendResult("failed", outcome.detail, inbox_id=inbox_id)
    # INBOX_FAILED: nothing left the machine
    inbox_record_error(inbox=slot.inbox, detail=outcome.detail)
    slot.release()
    message.error = outcome.detail
    logger.warning("inbox %s failed for message %s: %s", inbox_id, message.pk, outcome.detail)
    return None
