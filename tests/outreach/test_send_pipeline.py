"""Sending through real Dramatiq workers on each broker, into a loopback SMTP sink."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from crm.models import Enrollment
from jengu.bus import emit
from jengu.redis_helpers import get_redis
from outreach.models import EmailMessage
from outreach.sending.sweeper import stuck_work_sweep
from tests.brokers import both_brokers, drain
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)
from tests.waiting import wait_for
from tests.worker_processes import worker_processes

Status = EmailMessage.Status
pytestmark = pytest.mark.usefixtures("sending_settings", "template_only")


@pytest.fixture
def template_only(settings):
    """Compose without AI (the template path), so the pipeline needs nothing off-machine."""
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""


def per_recipient(sink) -> Counter:
    return Counter(m.rcpt_tos[0] for m in sink.messages)


@both_brokers
def test_a_full_campaign_reaches_the_sink_step_by_step_with_headers(
    smtp_sink, start_worker, broker
):
    inbox = make_inbox(smtp_sink, email="sam@sender.example")
    campaign = make_campaign([inbox], steps=(0, 2, 4))
    enrollments = [make_enrollment(campaign) for _ in range(4)]
    worker = start_worker()

    for step in (1, 2, 3):
        emit("SendEmailBatch", {})
        drain(broker, worker)
        assert smtp_sink.count() == 4 * step
        Enrollment.objects.filter(status=Enrollment.Status.ACTIVE).update(
            next_send_at=timezone.now()
        )

    for enrollment in enrollments:
        received = smtp_sink.to(enrollment.prospect.email)
        assert len(received) == 3
        mails = [r.message for r in received]
        for mail in mails:
            assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert mail["Message-ID"].endswith("@sender.example>")
        # Each follow-up answers the step before it, so mail clients show one thread.
        for earlier, later in zip(mails, mails[1:], strict=False):
            assert later["In-Reply-To"] == earlier["Message-ID"]
        enrollment.refresh_from_db()
        assert enrollment.status == Enrollment.Status.FINISHED
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {Status.SENT}


@both_brokers
def test_the_same_send_delivered_ten_times_at_once_sends_one_email(smtp_sink, start_worker, broker):
    message = queue_message(make_enrollment(make_campaign([make_inbox(smtp_sink)])))
    worker = start_worker(queues={"send", "track"}, threads=10)

    for _ in range(10):
        emit("SendEmail", {"message_id": message.pk})
    drain(broker, worker)

    assert smtp_sink.count() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_emails_sharing_a_paced_inbox_each_get_a_new_nudge_until_they_go(
    smtp_sink, start_worker, broker
):
    # Given five e-mails for one inbox that rests a second between sends
    campaign = make_campaign([make_inbox(smtp_sink, min_gap_seconds=1)])
    messages = [queue_message(make_enrollment(campaign)) for _ in range(5)]
    worker = start_worker(queues={"send", "track"}, threads=5)

    # When all are asked at once: one goes, the others are held and nudged;
    # each nudge finds the inbox resting again but one, and so on
    for message in messages:
        emit("SendEmail", {"message_id": message.pk})

    # Then every held e-mail keeps a next attempt until it is sent
    wait_for(lambda: smtp_sink.count() == 5, 30, "every e-mail, one a second")
    drain(broker, worker)
    assert set(per_recipient(smtp_sink).values()) == {1}
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {Status.SENT}


@both_brokers
def test_redis_flushed_mid_run_the_sweeper_re_emits_and_each_email_goes_once(
    smtp_sink, start_worker, broker, settings
):
    settings.SEND_STUCK_AFTER_MINUTES = 0
    campaign = make_campaign([make_inbox(smtp_sink), make_inbox(smtp_sink)])
    for _ in range(30):
        make_enrollment(campaign)
    # Given the batch ran and compose queued every e-mail, and some went out
    composer = start_worker(queues={"scheduled", "compose"})
    emit("SendEmailBatch", {})
    drain(broker, composer, queues=["scheduled", "compose"])
    assert EmailMessage.objects.filter(status=Status.QUEUED).count() == 30
    sender = start_worker(queues={"send", "track"}, threads=2)
    wait_for(lambda: smtp_sink.count() >= 5, 30, "the first e-mails")
    # When Redis and the broker lose everything: queues, locks, counters, claims
    get_redis().flushdb()
    broker.flush_all()
    drain(broker, sender)
    assert smtp_sink.count() < 30
    # Then the sweeper finds what is still queued and every e-mail goes out once
    report = stuck_work_sweep()
    assert report.renudged
    drain(broker, sender)
    assert per_recipient(smtp_sink) == Counter(
        {e.prospect.email: 1 for e in Enrollment.objects.all()}
    )
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {Status.SENT}


@pytest.fixture
def worker_process(tmp_path: Path, transactional_db) -> Iterator[Callable[[], subprocess.Popen]]:
    """`rundramatiq`-equivalent worker processes for the sending queues."""
    env = {
        "XAI_API_KEYS": "",
        "ANTHROPIC_API_KEY": "",
        "SEND_PACING_JITTER_SECONDS": "0",
        "SEND_SMTP_TIMEOUT_SECONDS": "2",
        "SEND_MAX_PER_DOMAIN_PER_DAY": "100",
    }
    with worker_processes(
        log_dir=tmp_path,
        modules=["outreach.tasks"],
        queues=["scheduled", "compose", "send", "track"],
        threads=4,
        env=env,
    ) as start:
        yield start


@pytest.mark.slow
@both_brokers
def test_a_worker_sigkilled_mid_batch_then_restarted_sends_each_email_once(
    smtp_sink, broker, worker_process, settings
):
    settings.SEND_STUCK_AFTER_MINUTES = 0
    campaign = make_campaign([make_inbox(smtp_sink)])
    enrollments = [make_enrollment(campaign) for _ in range(24)]
    emails = {e.prospect.email for e in enrollments}
    # Given a worker in the middle of sending a batch
    first = worker_process()
    emit("SendEmailBatch", {})
    wait_for(lambda: smtp_sink.count() >= 5, 60, "the first e-mails")
    # When it is SIGKILLed and a new worker starts
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert smtp_sink.count() < 24
    worker_process()

    def settled() -> bool:
        open_ = EmailMessage.objects.filter(status__in=[Status.QUEUED, Status.SENDING]).count()
        return EmailMessage.objects.count() == 24 and open_ == 0

    # Then (with the sweeper's help for sends that died with the worker) all are settled
    deadline = time.monotonic() + 90
    while not settled():
        assert time.monotonic() < deadline, "sends did not settle"
        time.sleep(1)
        stuck_work_sweep()
    received = per_recipient(smtp_sink)
    by_status = {
        status: {m.to_email for m in EmailMessage.objects.filter(status=status)}
        for status in (Status.SENT, Status.UNCERTAIN)
    }
    # No one got two; every recorded send arrived.
    assert set(received.values()) == {1}
    assert by_status[Status.SENT] <= set(received)
    # A send killed once DATA had begun (at most one per worker thread) is `uncertain`,
    # never resent: it may or may not have arrived, and only a person or IMAP may say.
    # Nothing else is missing, and every message is one or the other.
    assert emails - set(received) <= by_status[Status.UNCERTAIN]
    assert len(by_status[Status.UNCERTAIN]) <= 4
    assert by_status[Status.SENT] | by_status[Status.UNCERTAIN] == emails
