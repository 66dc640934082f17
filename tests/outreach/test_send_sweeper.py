"""The sweeper: stuck queued messages are nudged again; dead sends are requeued only when
they provably never reached DATA, otherwise they become uncertain."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Enrollment
from jengu.events.models import Event
from outreach.models import EmailMessage
from outreach.sending.batch import campaign_batch
from outreach.sending.handover import handover_pending
from outreach.sending.sweeper import redis_lost_data, stuck_work_sweep
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings", "swept_before")]
Status = EmailMessage.Status


@pytest.fixture
def swept_before():
    """As in a running system: a sweep ran before, and Redis kept its data since."""
    redis_lost_data()


def age(message: EmailMessage, minutes: int, status: str | None = None) -> None:
    fields = {"updated_at": timezone.now() - timedelta(minutes=minutes)}
    if status:
        fields["status"] = status
    EmailMessage.objects.filter(pk=message.pk).update(**fields)


def nudged() -> list[int]:
    return [
        p["message_id"]
        for p in Event.objects.filter(type="SendEmail").values_list("payload", flat=True)
    ]


def test_a_stale_queued_message_is_nudged_and_a_fresh_one_is_not(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    stale, fresh = (queue_message(make_enrollment(campaign)) for _ in range(2))
    age(stale, 30)

    report = stuck_work_sweep()

    assert report.renudged == [stale.pk] and nudged() == [stale.pk]


def test_a_dead_send_before_data_is_queued_again(smtp_sink):
    message = queue_message(make_enrollment(make_campaign([make_inbox(smtp_sink)])))
    handover_pending(message_pk=message.pk)  # the worker died after fencing, before DATA
    age(message, 30, Status.SENDING)

    report = stuck_work_sweep()

    message.refresh_from_db()
    assert message.status == Status.QUEUED and report.renudged == [message.pk]


def test_a_dead_send_during_data_becomes_uncertain_and_is_not_resent(smtp_sink):
    message = queue_message(make_enrollment(make_campaign([make_inbox(smtp_sink)])))
    age(message, 30, Status.SENDING)  # no marker: DATA had begun

    report = stuck_work_sweep()

    message.refresh_from_db()
    assert message.status == Status.UNCERTAIN and report.marked_uncertain == [message.pk]
    assert report.left_for_operator == [message.pk] and nudged() == []


def test_after_redis_lost_its_data_every_queued_message_is_nudged_at_once(smtp_sink, on_own_redis):
    redis_lost_data()  # sweeps ran before on this Redis
    campaign = make_campaign([make_inbox(smtp_sink)])
    fresh = queue_message(make_enrollment(campaign))  # its SendEmail was in Redis

    on_own_redis.restart_empty()
    report = stuck_work_sweep()

    assert report.redis_lost_data and report.renudged == [fresh.pk] and nudged() == [fresh.pk]
    assert not stuck_work_sweep().redis_lost_data  # once


def test_after_redis_lost_its_data_claimed_enrollments_are_due_again_at_once(
    smtp_sink, on_own_redis
):
    campaign = make_campaign([make_inbox(smtp_sink)])
    claimed = make_enrollment(campaign)
    later = make_enrollment(campaign)  # a follow-up genuinely due in two days
    Enrollment.objects.filter(pk=later.pk).update(next_send_at=timezone.now() + timedelta(days=2))
    redis_lost_data()
    assert campaign_batch(campaign=campaign).selected == [claimed.pk]  # ComposeEmail emitted

    on_own_redis.restart_empty()  # ... and lost with Redis
    report = stuck_work_sweep()

    claimed.refresh_from_db()
    assert report.claims_released == 1 and claimed.next_send_at <= timezone.now()
    assert Enrollment.objects.get(pk=later.pk).next_send_at > timezone.now() + timedelta(days=1)
    assert Event.objects.filter(type="SendEmailBatch").count() == 1
    assert campaign_batch(campaign=campaign).selected == [claimed.pk]
