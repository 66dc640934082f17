"""Warm-up caps: the ramp, the hard maximum, and reservations under concurrency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.db import connections

from crm.models import Inbox
from jengu.redis_helpers import get_redis
from outreach.models import EmailMessage
from outreach.sending.services import message_send
from outreach.sending.warmup import (
    inbox_daily_cap,
    inbox_sent_today,
    pacing_reserve,
    pacing_wait_seconds,
    send_day,
    warmup_reserve,
)
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

START = date(2025, 3, 1)


def redis_loses_the_counters() -> None:
    client = get_redis()
    for key in client.scan_iter("jengu:count:sends:*"):
        client.delete(key)


def inbox(**fields) -> Inbox:
    fields.setdefault("warmup_start", START)
    fields.setdefault("warmup_ramp", [5, 8, 12])
    fields.setdefault("daily_limit", 10)
    return Inbox(**fields)


def test_the_ramp_gives_todays_cap_never_above_the_hard_maximum():
    box = inbox()
    caps = [inbox_daily_cap(inbox=box, day=START + timedelta(days=n)) for n in range(5)]
    assert caps == [5, 8, 10, 10, 10]


def test_without_warm_up_the_cap_is_the_hard_maximum():
    assert inbox_daily_cap(inbox=inbox(warmup_enabled=False), day=START) == 10


def test_a_broken_ramp_means_the_hard_maximum_not_unlimited():
    assert inbox_daily_cap(inbox=inbox(warmup_ramp={"oops": 1}), day=START) == 10


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sending_settings")
def test_sixteen_threads_never_reserve_past_the_cap():
    box = Inbox.objects.create(email="w@sender.example", warmup_enabled=False, daily_limit=25)
    day = send_day()

    def grab(_):
        try:
            return sum(warmup_reserve(inbox=box, day=day) for _ in range(10))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(16) as pool:
        granted = sum(pool.map(grab, range(16)))

    assert granted == 25 and inbox_sent_today(inbox=box) == 25


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sending_settings")
def test_sixteen_threads_sending_hold_the_cap_and_the_database_agrees(smtp_sink):
    box = make_inbox(smtp_sink, warmup_enabled=True, warmup_ramp=[7], warmup_start=send_day())
    campaign = make_campaign([box])
    messages = [queue_message(make_enrollment(campaign)) for _ in range(30)]

    def send(message):
        try:
            return message_send(message=message).status
        finally:
            connections.close_all()

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(send, messages))

    sent = EmailMessage.objects.filter(inbox=box, status=EmailMessage.Status.SENT).count()
    assert statuses.count("sent") == 7 == sent == smtp_sink.count()
    assert inbox_sent_today(inbox=box) == 7
    assert EmailMessage.objects.filter(status=EmailMessage.Status.QUEUED).count() == 23


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sending_settings")
def test_a_lost_counter_is_rebuilt_from_the_database(smtp_sink):
    box = make_inbox(smtp_sink, daily_limit=3)
    campaign = make_campaign([box])
    for _ in range(2):
        message_send(message=queue_message(make_enrollment(campaign)))
    redis_loses_the_counters()

    results = [message_send(message=queue_message(make_enrollment(campaign))) for _ in range(3)]

    assert [r.status for r in results] == ["sent", "held", "held"]
    assert smtp_sink.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sending_settings")
def test_lost_domain_counters_are_rebuilt_from_the_database(smtp_sink, settings):
    settings.SEND_MAX_PER_DOMAIN_PER_DAY = 2
    campaign = make_campaign([make_inbox(smtp_sink)])

    def send_to(address: str) -> str:
        return message_send(message=queue_message(make_enrollment(campaign, email=address))).status

    assert [send_to("a@chain.example"), send_to("b@Chain.example")] == ["sent", "sent"]
    redis_loses_the_counters()  # the day's domain seed marker included

    assert send_to("c@chain.example") == "held"  # two already went there today
    assert [send_to("d@other.example"), send_to("e@other.example")] == ["sent", "sent"]
    assert send_to("f@other.example") == "held"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sending_settings")
def test_pacing_lets_one_send_per_gap():
    box = Inbox.objects.create(email="p@sender.example", min_gap_seconds=120)

    assert pacing_reserve(inbox=box)
    assert not pacing_reserve(inbox=box)
    assert 100 < pacing_wait_seconds(inbox=box) <= 120
