"""Faults injected in the middle of a batch, on a running sending stack.

Shared by the fault tests (short outages, fast settings, assertions) and
`make bench` (the documented defaults, a table of recovery times). The caller
starts the worker (and scheduler) processes; a scenario waits until part of the
batch is out, injects the fault, ends it, and waits until every e-mail is settled.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from crm.models import Campaign
from jengu.events.models import Event
from outreach.models import EmailMessage
from outreach.sending.resolve import message_resolve_uncertain
from tests.fakes.smtp import SmtpSink
from tests.outreach.sending_fixtures import make_campaign, make_enrollment, make_inbox
from tests.own_redis import OwnRedis
from tests.waiting import wait_for

Status = EmailMessage.Status
# As in the send benchmark: no random pacing, no per-domain cap, no AI (template compose).
SENDING_ENV = {
    "XAI_API_KEYS": "",
    "ANTHROPIC_API_KEY": "",
    "SEND_PACING_JITTER_SECONDS": "0",
    "SEND_MAX_PER_DOMAIN_PER_DAY": "1000",
    # The scheduler checks the inboxes' domain at start: it must authenticate.
    "ENRICHMENT_DNS_RESOLVER": "tests.fakes.sending_dns.SendingDomainResolver",
}
# The fault starts once this share of the batch is out.
FAULT_AT = 0.3


@dataclass
class Outcome:
    """What a fault did. Times in seconds; "back" is the moment the service returned."""

    emails: int
    down_seconds: float
    down_at: float = 0.0  # epoch seconds
    back_at: float = 0.0
    before_fault: int = 0  # e-mails accepted before the fault began
    back_to_done: float = 0.0  # from back to the last e-mail accepted
    back_to_breaker_closed: float | None = None  # SMTP outage: the probe that closed it
    uncertain: int = 0  # DATA cut by the outage: settled by an operator afterwards
    copies: Counter = field(default_factory=Counter)  # recipient -> e-mails received
    statuses: Counter = field(default_factory=Counter)

    @property
    def down_time(self) -> datetime:
        return datetime.fromtimestamp(self.down_at, tz=UTC)

    @property
    def back_time(self) -> datetime:
        return datetime.fromtimestamp(self.back_at, tz=UTC)

    @property
    def breaker_closed_to_done(self) -> float | None:
        if self.back_to_breaker_closed is None:
            return None
        return self.back_to_done - self.back_to_breaker_closed


def batch_campaign(sink: SmtpSink, *, emails: int, inboxes: int = 4) -> Campaign:
    """`emails` due enrollments on `inboxes` inboxes of `sink`, which takes 0.2 s to
    accept a message (as a real server might): a batch lasts a few seconds."""
    sink.data_delay = 0.2
    campaign = make_campaign([make_inbox(sink) for _ in range(inboxes)])
    for _ in range(emails):
        make_enrollment(campaign)
    return campaign


def _settled(emails: int) -> bool:
    statuses = Counter(EmailMessage.objects.values_list("status", flat=True))
    return sum(statuses.values()) == emails and not statuses.keys() & {
        Status.QUEUED,
        Status.SENDING,
    }


def _wait_for_part_of_the_batch(sink: SmtpSink, emails: int, timeout: float) -> int:
    wait_for(lambda: sink.count() >= emails * FAULT_AT, timeout, "the batch to be under way")
    return sink.count()


def _wait_settled(outcome: Outcome, timeout: float) -> None:
    wait_for(lambda: _settled(outcome.emails), timeout, "every e-mail to be settled", poll=0.2)


def _last_accepted(sink: SmtpSink) -> float:
    return max(received.at for received in sink.messages)


def _count(outcome: Outcome, sink: SmtpSink) -> Outcome:
    outcome.copies = Counter(received.rcpt_tos[0] for received in sink.messages)
    outcome.statuses = Counter(EmailMessage.objects.values_list("status", flat=True))
    return outcome


def _outage(
    outage: Outcome, *, stop: Callable[[], None], start: Callable[[], None], sink: SmtpSink,
    timeout: float,
) -> None:  # fmt: skip
    """Once part of the batch is out, `stop()`, wait, `start()`; wait until all is settled."""
    outage.before_fault = _wait_for_part_of_the_batch(sink, outage.emails, timeout)
    outage.down_at = time.time()
    stop()
    time.sleep(outage.down_seconds)
    start()
    outage.back_at = time.time()
    _wait_settled(outage, timeout)
    outage.back_to_done = _last_accepted(sink) - outage.back_at


def redis_restarted_empty(
    *, redis: OwnRedis, sink: SmtpSink, emails: int, down_seconds: float, timeout: float
) -> Outcome:
    """Kill the stack's Redis mid-batch; start it again empty after `down_seconds`."""
    outcome = Outcome(emails, down_seconds)
    _outage(outcome, stop=redis.stop, start=redis.start, sink=sink, timeout=timeout)
    return _count(outcome, sink)


def smtp_server_down(
    *, sink: SmtpSink, emails: int, down_seconds: float, timeout: float
) -> Outcome:
    """Stop the inboxes' SMTP server mid-batch for `down_seconds`.

    E-mails whose DATA the stop cut are `uncertain`: they are settled as an
    operator would, from what the server received ("delivered") or not ("send
    again"), and the send-again ones are waited for too.
    """
    outcome = Outcome(emails, down_seconds)
    _outage(outcome, stop=sink.stop, start=sink.start, sink=sink, timeout=timeout)
    outcome.back_to_breaker_closed = _breaker_closed_after(outcome.back_at)
    outcome.uncertain = _settle_uncertain(sink)
    _wait_settled(outcome, timeout)
    return _count(outcome, sink)


def _breaker_closed_after(moment: float) -> float | None:
    closed = Event.objects.filter(
        type="breaker.closed", created_at__gte=datetime.fromtimestamp(moment, tz=UTC)
    ).order_by("created_at")
    first = closed.values_list("created_at", flat=True).first()
    return first.timestamp() - moment if first else None


def _settle_uncertain(sink: SmtpSink) -> int:
    arrived = {received.message["Message-ID"] for received in sink.messages}
    uncertain = list(EmailMessage.objects.filter(status=Status.UNCERTAIN).select_related("inbox"))
    for message in uncertain:
        delivered = message.message_id in arrived
        message_resolve_uncertain(message=message, delivered=delivered, by="the server's log")
    return len(uncertain)
