"""Fixtures for the sending tests: a loopback SMTP sink, clean Redis state, a campaign."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
import pytest
from django.utils import timezone

from crm.models import EmailStatus, Inbox, Stage
from jengu.redis_helpers import get_redis
from outreach.models import EmailMessage
from tests.factories import (
    CampaignFactory,
    CampaignStepFactory,
    EnrollmentFactory,
    InboxFactory,
    ProspectFactory,
)
from tests.fakes.smtp import SmtpSink

SENDING_KEYS = (
    "jengu:count:sends:*",
    "jengu:pace:*",
    "jengu:breaker:smtp:*",
    "jengu:nudge:*",
    "jengu:lock:prospect:*",
)


@pytest.fixture
def sending_state_clean():
    """No counters, pacing claims, breakers, nudges or prospect locks left by other tests."""
    client = get_redis()
    for pattern in SENDING_KEYS:
        for key in client.scan_iter(pattern):
            client.delete(key)


@pytest.fixture
def start_worker(broker, transactional_db):
    """`start(queues=None, threads=8)`: a Dramatiq worker in this process on `broker`."""
    started: list[dramatiq.Worker] = []

    def start(queues=None, threads=8) -> dramatiq.Worker:
        worker = dramatiq.Worker(broker, queues=queues, worker_timeout=100, worker_threads=threads)
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def sending_settings(settings, sending_state_clean):
    settings.PUBLIC_BASE_URL = "https://crm.example.test"
    settings.SEND_PACING_JITTER_SECONDS = 0
    settings.SEND_SMTP_TIMEOUT_SECONDS = 5
    settings.SEND_MAX_PER_DOMAIN_PER_DAY = 100
    settings.BOUNCE_MIN_SENDS = 1000
    return settings


def make_inbox(sink: SmtpSink, **fields) -> Inbox:
    fields.setdefault("min_gap_seconds", 0)
    fields.setdefault("warmup_enabled", False)
    fields.setdefault("daily_limit", 1000)
    return InboxFactory(smtp_port=sink.port, **fields)


def make_campaign(inboxes, steps=(0,), **fields):
    campaign = CampaignFactory(**fields)
    campaign.inboxes.add(*inboxes)
    for order, delay in enumerate(steps, start=1):
        CampaignStepFactory(
            campaign=campaign,
            order=order,
            delay_days=delay,
            subject_template=f"Step {order}",
            body_template="Body",
        )
    return campaign


def make_enrollment(campaign, **prospect_fields):
    prospect_fields.setdefault("email_status", EmailStatus.VALID)
    prospect_fields.setdefault("stage", Stage.READY)
    due = timezone.now() - timedelta(minutes=1)  # as `campaign_enroll` leaves it
    return EnrollmentFactory(
        campaign=campaign, prospect=ProspectFactory(**prospect_fields), next_send_at=due
    )


def queue_message(enrollment, step: int | None = None, **fields) -> EmailMessage:
    """What compose leaves behind: a queued message keyed `<enrollment>:<step>`."""
    step = step or enrollment.current_step
    fields.setdefault("subject", f"Step {step} for {enrollment.prospect.business_name}")
    fields.setdefault("body", "Hi Anna,\n\nA short note <b>not html</b>.\n\nSam")
    return EmailMessage.objects.create(
        direction=EmailMessage.Direction.OUTBOUND,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        campaign=enrollment.campaign,
        step=step,
        to_email=enrollment.prospect.email,
        status=EmailMessage.Status.QUEUED,
        idempotency_key=EmailMessage.idempotency_key_for(enrollment.pk, step),
        **fields,
    )
