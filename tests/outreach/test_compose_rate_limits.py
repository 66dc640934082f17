"""A rate limit is a reason to wait, never to write a worse e-mail.

Batches go through a real Dramatiq worker (Redis broker, several threads) to the
loopback Grok and Claude fakes, with each provider's token bucket far smaller
than the batch.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import dramatiq
import pytest

from jengu.alerts import recent_alerts
from jengu.bus import emit
from jengu.events.models import DeadLetter, Event
from jengu.redis_helpers import CircuitBreaker
from outreach.compose import message_compose
from outreach.compose_wait import compose_deadline
from outreach.models import AICall, EmailMessage
from tests.factories import CampaignFactory, CampaignStepFactory, EnrollmentFactory, ProspectFactory
from tests.outreach.conftest import CLAUDE_KEY, GROK_KEYS, send_email_events

pytestmark = pytest.mark.usefixtures("alerts_clean")

CAPACITY = 4  # each provider's bucket; the batches are ten times that
BATCH = 10 * CAPACITY
THREADS = 4
THRESHOLD = 3  # AI_BREAKER_FAILURE_THRESHOLD
# Concurrent calls can all start before the breaker opens: at most one per thread more.
CALL_LIMIT = THRESHOLD + THREADS - 1


@pytest.fixture
def small_buckets(ai_settings):
    ai_settings.AI_BUCKET_CAPACITY = CAPACITY
    ai_settings.AI_BUCKET_REFILL_PER_SECOND = 8
    return ai_settings


@pytest.fixture
def compose_batch(transactional_db, small_buckets):
    """`compose_batch(n)`: n first touches through a real worker; their messages."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, queues={"compose"}, worker_timeout=50, worker_threads=THREADS)
    worker.start()

    def run(count: int) -> list[EmailMessage]:
        step = CampaignStepFactory(order=1)
        prospects = [ProspectFactory() for _ in range(count)]
        for prospect in prospects:
            enrollment = EnrollmentFactory(prospect=prospect, campaign=step.campaign)
            emit("ComposeEmail", {"enrollment_id": enrollment.pk, "step": 1})
        broker.join("compose", timeout=120_000)
        worker.join()
        return list(EmailMessage.objects.filter(campaign=step.campaign))

    yield run
    worker.stop()
    broker.flush_all()


def written_by(messages: list[EmailMessage]) -> Counter:
    return Counter(message.provider for message in messages)


def alert_kinds() -> set[str]:
    return {alert.kind for alert in recent_alerts(limit=50)}


def test_healthy_providers_write_every_email_of_a_batch_ten_times_their_buckets(
    compose_batch, fake_grok, fake_claude
):
    messages = compose_batch(BATCH)

    assert len(messages) == BATCH
    assert "template" not in written_by(messages)
    assert {m.status for m in messages} == {EmailMessage.Status.QUEUED}
    assert {m.fallback_reason for m in messages} == {""}
    # Every provider was asked only when it had a token: no failures, no 429s.
    assert fake_grok.requests_for() + fake_claude.requests_for() == BATCH
    assert not AICall.objects.filter(success=False).exists()
    assert len(send_email_events()) == BATCH
    assert not DeadLetter.objects.exists()


def test_with_the_primary_down_the_next_provider_writes_every_email(
    compose_batch, small_buckets, fake_grok
):
    small_buckets.ANTHROPIC_API_KEY = ""  # grok:1, then grok:2
    fake_grok.behave("error", key=GROK_KEYS[0])

    messages = compose_batch(BATCH)

    assert written_by(messages) == {"grok:2": BATCH}
    assert fake_grok.requests_for(GROK_KEYS[0]) <= CALL_LIMIT
    assert fake_grok.requests_for(GROK_KEYS[1]) == BATCH


def test_with_grok_down_claude_writes_every_email(compose_batch, fake_grok, fake_claude):
    fake_grok.behave("error")

    messages = compose_batch(BATCH)

    assert written_by(messages) == {"claude": BATCH}
    for key in GROK_KEYS:
        assert fake_grok.requests_for(key) <= CALL_LIMIT
        assert CircuitBreaker(f"ai:grok:{GROK_KEYS.index(key) + 1}").state == "open"
    assert fake_claude.requests_for(CLAUDE_KEY) == BATCH
    assert "compose_template_while_ai_busy" not in alert_kinds()


def test_with_every_provider_down_the_template_writes_every_email(
    compose_batch, fake_grok, fake_claude
):
    fake_grok.behave("error")
    fake_claude.behave("error")

    messages = compose_batch(BATCH)

    assert written_by(messages) == {"template": BATCH}
    assert {m.fallback_reason for m in messages} == {"providers_failed"}
    for key in [*GROK_KEYS]:
        assert fake_grok.requests_for(key) <= CALL_LIMIT
    assert fake_claude.requests_for() <= CALL_LIMIT
    # Provider failure explains these: the breakers raise their own alerts.
    assert "compose_template_while_ai_busy" not in alert_kinds()


def test_a_provider_answering_429_is_waited_for_not_failed(
    compose_batch, small_buckets, fake_claude
):
    small_buckets.XAI_API_KEYS = []
    small_buckets.AI_BUCKET_CAPACITY = 100  # our limiter lets everything through…
    fake_claude.behave("throttle", per_second=5, retry_after=1)  # …the provider does not

    messages = compose_batch(20)

    assert written_by(messages) == {"claude": 20}
    assert fake_claude.requests_for() > 20  # it did say 429
    assert AICall.objects.filter(error_class="rate_limited").exists()
    assert CircuitBreaker("ai:claude").state == "closed"


def test_waits_longer_than_a_worker_may_sleep_requeue_the_compose_without_spending_retries(
    compose_batch, small_buckets, fake_claude
):
    small_buckets.XAI_API_KEYS = []
    small_buckets.AI_BUCKET_CAPACITY = 1
    small_buckets.AI_BUCKET_REFILL_PER_SECOND = 4
    small_buckets.AI_BUSY_WAIT_SECONDS = 0.1  # every wait for a token is longer

    messages = compose_batch(6)

    assert written_by(messages) == {"claude": 6}
    composes = Event.objects.filter(type="ComposeEmail")
    requeued = composes.exclude(parent_id=None)
    assert requeued.exists()
    assert all(event.payload["deadline"] for event in requeued)
    assert set(composes.values_list("attempts", flat=True)) == {1}  # no retry spent
    assert not DeadLetter.objects.exists()


@pytest.mark.django_db
def test_busy_past_the_deadline_falls_back_to_the_template_and_alerts(
    small_buckets, fake_claude, alerts_clean
):
    small_buckets.XAI_API_KEYS = []
    small_buckets.AI_BUCKET_CAPACITY = 1
    small_buckets.AI_BUCKET_REFILL_PER_SECOND = 0.01  # the next token in 100 s
    small_buckets.AI_COMPOSE_MAX_WAIT_SECONDS = 30
    step = CampaignStepFactory(order=1)
    enrollments = [EnrollmentFactory(campaign=step.campaign) for _ in range(3)]

    messages = [message_compose(enrollment=e, step=step).message for e in enrollments]

    assert [(m.provider, m.fallback_reason) for m in messages] == [
        ("claude", ""),
        ("template", "deadline"),
        ("template", "deadline"),
    ]
    alerts = [a for a in recent_alerts() if a.kind == "compose_template_while_ai_busy"]
    assert len(alerts) == 1  # one per campaign and cooldown
    assert alerts[0].context["campaign_id"] == step.campaign_id


@pytest.mark.django_db
def test_the_deadline_is_the_end_of_the_prospects_sending_window(settings):
    settings.AI_COMPOSE_MAX_WAIT_SECONDS = 4 * 3600
    campaign = CampaignFactory(window_start_hour=9, window_end_hour=17)
    prospect = ProspectFactory(timezone="Asia/Kolkata")  # UTC+05:30
    monday_16_40 = datetime(2026, 3, 2, 11, 10, tzinfo=UTC)

    deadline = compose_deadline(campaign=campaign, prospect=prospect, now=monday_16_40)

    assert deadline == datetime(2026, 3, 2, 11, 30, tzinfo=UTC)  # 17:00 in Kolkata


@pytest.mark.django_db
def test_the_deadline_is_never_further_than_the_longest_wait(settings):
    settings.AI_COMPOSE_MAX_WAIT_SECONDS = 600
    campaign = CampaignFactory(window_start_hour=9, window_end_hour=17)
    prospect = ProspectFactory(timezone="Europe/Lisbon")
    monday_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    saturday_10 = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)  # outside the window

    for now in (monday_10, saturday_10):
        assert compose_deadline(campaign=campaign, prospect=prospect, now=now) == now + timedelta(
            seconds=600
        )
