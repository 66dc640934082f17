"""Sending when Redis fails mid-send, and how long held e-mails wait for an inbox.

Redis faults are real: the test's own Valkey is killed at the exact SMTP step
(the loopback server's hook), then started again empty.
"""

import time

import pytest
import redis

from crm.models import Campaign
from jengu.events.models import Event
from jengu.redis_helpers import CircuitBreaker
from outreach.models import EmailMessage
from outreach.sending.nudge import nudges_pending, send_nudge
from outreach.sending.rotation import (
    BREAKER_RETRY_SPREAD_SECONDS,
    PROBE_WAIT_SECONDS,
    inbox_breaker,
)
from outreach.sending.services import message_send
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
Status = EmailMessage.Status


def kill_redis_at(sink, step: str, server) -> None:
    def hook(command: str) -> None:
        if command == step:
            server.stop()

    sink.on_command = hook


def test_redis_lost_right_before_data_leaves_the_email_queued_and_it_goes_once_later(
    smtp_sink, on_own_redis
):
    message = queue_message(make_enrollment(make_campaign([make_inbox(smtp_sink)])))
    # Given Redis dies once the server has taken the recipient, before DATA
    kill_redis_at(smtp_sink, "RCPT", on_own_redis)

    # When the send needs Redis to take its hand-over marker
    with pytest.raises(redis.ConnectionError):
        message_send(message=message)

    # Then nothing was handed over, and the row says so: queued, not `sending`
    message.refresh_from_db()
    assert message.status == Status.QUEUED and "before the hand-over" in message.error
    assert smtp_sink.count() == 0
    # And once Redis is back (empty), the retry sends it, once
    smtp_sink.on_command = None
    on_own_redis.start()
    assert message_send(message=EmailMessage.objects.get(pk=message.pk)).status == "sent"
    assert smtp_sink.count() == 1


def test_redis_lost_after_the_server_accepted_still_records_the_email_sent(smtp_sink, on_own_redis):
    enrollment = make_enrollment(make_campaign([make_inbox(smtp_sink)], steps=(0, 2)))
    message = queue_message(enrollment)
    kill_redis_at(smtp_sink, "DATA", on_own_redis)

    result = message_send(message=message)

    message.refresh_from_db()
    enrollment.refresh_from_db()
    assert result.status == "sent" and message.status == Status.SENT
    assert enrollment.current_step == 2 and smtp_sink.count() == 1


def nudge_tokens(message_id: int) -> list[str]:
    events = Event.objects.filter(type="SendEmail", payload__message_id=message_id)
    return [p["nudge"] for p in events.order_by("id").values_list("payload", flat=True)]


def test_one_nudge_is_pending_per_message_and_the_running_one_schedules_the_next(
    sending_state_clean,
):
    assert send_nudge(message_id=41, delay_seconds=60)
    [first] = nudge_tokens(41)

    # A second hold (another copy of the event) leaves the pending nudge alone
    assert not send_nudge(message_id=41, delay_seconds=60)
    # The pending nudge itself, held again, schedules the next one
    assert send_nudge(message_id=41, delay_seconds=60, replacing=first)
    second = nudge_tokens(41)[-1]
    assert second != first and nudges_pending([41]) == {41}
    # The first nudge, delivered twice, cannot stack a third
    assert not send_nudge(message_id=41, delay_seconds=60, replacing=first)
    assert len(nudge_tokens(41)) == 2


def test_an_email_held_for_a_down_server_waits_for_the_breaker_not_five_minutes(
    smtp_sink, settings
):
    settings.SEND_BREAKER_FAILURE_THRESHOLD = 1
    settings.SEND_BREAKER_RESET_SECONDS = 30
    inbox = make_inbox(smtp_sink)
    campaign = make_campaign([inbox])
    smtp_sink.stop()

    first = message_send(message=queue_message(make_enrollment(campaign)))
    second = message_send(message=queue_message(make_enrollment(campaign)))

    rest = inbox_breaker(inbox).snapshot().retry_in
    assert first.status == second.status == "held"
    # The one that failed and the one that found the breaker open both come back when
    # it lets its probe through (spread over a few seconds), not after five minutes
    for result in (first, second):
        assert rest - 1 <= result.retry_after <= rest + BREAKER_RETRY_SPREAD_SECONDS


@pytest.fixture
def probe_out(smtp_sink, settings) -> tuple[Campaign, CircuitBreaker]:
    """A campaign whose one inbox's breaker is half-open with another worker's probe out
    (the probe's slot lapses after 0.2 s)."""
    settings.SEND_BREAKER_FAILURE_THRESHOLD = 1
    settings.SEND_BREAKER_RESET_SECONDS = 0.2
    inbox = make_inbox(smtp_sink)
    breaker = inbox_breaker(inbox)
    breaker.record_failure()
    wait_for(lambda: breaker.state == "half_open", 5, "the breaker to let a probe through")
    assert breaker.allow()
    return make_campaign([inbox]), breaker


def test_while_the_probe_is_out_the_others_look_again_shortly(smtp_sink, probe_out):
    campaign, _ = probe_out

    result = message_send(message=queue_message(make_enrollment(campaign)))

    assert result.status == "held" and result.retry_after == PROBE_WAIT_SECONDS
    assert smtp_sink.count() == 0


def test_when_a_probe_closes_the_breaker_the_emails_that_waited_for_it_go_at_once(probe_out):
    campaign, breaker = probe_out
    waiting, probe = (queue_message(make_enrollment(campaign)) for _ in range(2))
    # Given an e-mail held while another worker's probe was out
    assert message_send(message=waiting).status == "held"

    # When that probe's slot lapses and the next probe gets through
    time.sleep(0.3)
    assert message_send(message=probe).status == "sent"

    # Then the breaker is closed and the held e-mail is nudged now, not in 10 s
    assert breaker.state == "closed"
    events = Event.objects.filter(type="SendEmail", payload__message_id=waiting.pk)
    assert list(events.values_list("payload", flat=True)) == [{"message_id": waiting.pk}]
