"""Regions through real workers on each broker: each region's e-mails on its queues and
inboxes; a region whose workers die has its waiting sends taken over, and nothing goes
twice when it comes back with its messages still queued."""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jengu.alerts import recent_alerts
from jengu.bus import emit
from jengu.events.models import Event
from jengu.failover import regions_down, regions_failover
from jengu.redis_helpers import get_redis
from jengu.regions import liveness_cache, worker_queues
from outreach.models import EmailMessage
from tests.brokers import both_brokers, drain, waiting
from tests.outreach.fault_scenarios import SENDING_ENV
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)
from tests.regions import REGION_ENV
from tests.waiting import wait_for
from tests.worker_processes import worker_booted, worker_processes

Status = EmailMessage.Status
pytestmark = pytest.mark.usefixtures("sending_settings", "two_regions", "alerts_clean")

PARIS, NEW_YORK = "Europe/Paris", "America/New_York"


def sender_of(sink) -> dict[str, str]:
    return {m.rcpt_tos[0]: m.mail_from for m in sink.messages}


@both_brokers
def test_each_region_composes_and_sends_on_its_queues_from_its_inboxes(
    smtp_sink, start_worker, broker, settings
):
    settings.XAI_API_KEYS, settings.ANTHROPIC_API_KEY = [], ""
    us_inbox = make_inbox(smtp_sink, email="us@sender.example", region="us-east")
    eu_inbox = make_inbox(smtp_sink, email="eu@sender.example", region="eu-west")
    campaign = make_campaign([us_inbox, eu_inbox])
    europeans = [make_enrollment(campaign, timezone=PARIS) for _ in range(3)]
    americans = [make_enrollment(campaign, timezone=NEW_YORK) for _ in range(3)]
    worker = start_worker()

    emit("SendEmailBatch", {})
    drain(broker, worker)

    senders = sender_of(smtp_sink)
    assert Counter(m.rcpt_tos[0] for m in smtp_sink.messages) == Counter(
        {e.prospect.email: 1 for e in europeans + americans}
    )
    assert {senders[e.prospect.email] for e in europeans} == {"eu@sender.example"}
    assert {senders[e.prospect.email] for e in americans} == {"us@sender.example"}
    queues = {
        (event.type, event.payload.get("enrollment_id") or event.payload.get("message_id")): (
            event.queue
        )
        for event in Event.objects.filter(type__in=["ComposeEmail", "SendEmail"])
    }
    eu_enrollments = {e.pk for e in europeans}
    eu_messages = set(
        EmailMessage.objects.filter(enrollment__in=europeans).values_list("pk", flat=True)
    )
    for (event_type, key), queue in queues.items():
        european = key in (eu_enrollments if event_type == "ComposeEmail" else eu_messages)
        stage = "compose" if event_type == "ComposeEmail" else "send"
        assert queue == f"{stage}-{'eu-west' if european else 'us-east'}", (event_type, key)


@pytest.fixture
def eu_worker_process(tmp_path: Path, transactional_db) -> Iterator[Callable]:
    """Worker processes of region eu-west, as `rundramatiq --regions eu-west` runs them."""
    env = {**SENDING_ENV, **REGION_ENV, "JENGU_REGION_DOWN_SECONDS": "3"}
    with worker_processes(
        log_dir=tmp_path,
        modules=["outreach.tasks"],
        queues=worker_queues(["eu-west"]),
        threads=4,
        env=env,
    ) as start:
        yield start


@pytest.mark.slow
@both_brokers
def test_a_dead_region_is_taken_over_and_sends_nothing_twice_when_it_returns(
    smtp_sink, start_worker, broker, eu_worker_process, settings
):
    settings.JENGU_REGION_DOWN_SECONDS = 3
    campaign = make_campaign([make_inbox(smtp_sink, region="eu-west")])
    messages = [queue_message(make_enrollment(campaign, timezone=PARIS)) for _ in range(10)]
    # Given region eu-west's worker beating, and us-east's worker (this process)
    eu = eu_worker_process()
    wait_for(lambda: worker_booted(eu), 60, "the eu-west worker to beat")
    start_worker(queues=worker_queues(["us-east"]))
    # When the eu-west worker freezes, its region's sends are queued for it all the same
    # (its heartbeat is fresh), and the worker dies without sending any (RabbitMQ pushes
    # some to the frozen worker; they come back when its connection drops)
    os.killpg(eu.pid, signal.SIGSTOP)
    liveness_cache.clear()
    for message in messages:
        emit("SendEmail", {"message_id": message.pk})
    os.killpg(eu.pid, signal.SIGKILL)
    eu.wait()
    wait_for(lambda: waiting(broker, ["send-eu-west"]) == 10, 10, "eu-west's sends queued")

    # Then once it has been silent for JENGU_REGION_DOWN_SECONDS, the check hands its
    # waiting sends to us-east, raises an alert, and each e-mail goes once
    wait_for(lambda: regions_failover() != [], 15, "eu-west to be found down", poll=0.5)
    wait_for(lambda: smtp_sink.count() == 10, 30, "us-east to send eu-west's e-mails")
    assert {(d.queue, d.fallback) for d in regions_down()} >= {("send-eu-west", "send-us-east")}
    down_alerts = [a for a in recent_alerts() if a.kind == "region_down"]
    assert len(down_alerts) == 1 and "Region eu-west is down" in down_alerts[0].message
    assert waiting(broker, ["send-eu-west"]) == 10  # the originals are still there

    # When eu-west comes back with its messages still queued, and even Redis forgot which
    # events were done: only the send's fence in PostgreSQL stands between it and a resend
    for key in get_redis().scan_iter("jengu:event:*"):
        get_redis().delete(key)
    eu_again = eu_worker_process()
    wait_for(lambda: worker_booted(eu_again), 60, "the eu-west worker to come back")
    wait_for(lambda: waiting(broker, ["send-eu-west"]) == 0, 30, "eu-west to drain its queue")
    wait_for(lambda: not regions_failover() and not regions_down(), 15, "eu-west to count as up")

    # Then nothing was sent twice, and its return is announced
    assert Counter(m.rcpt_tos[0] for m in smtp_sink.messages) == Counter(
        {m.to_email: 1 for m in messages}
    )
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {Status.SENT}
    assert [a.kind for a in recent_alerts()][:1] == ["region_back"]
