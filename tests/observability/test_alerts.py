"""Alerts reach a Slack/Discord-style webhook once per incident and are listed."""

import json

import pytest

from jengu.alerts import alert, recent_alerts
from tests.fakes.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    receiver = WebhookReceiver().start()
    settings.ALERT_WEBHOOK_URL = receiver.url + "?token=s3cret-token"
    yield receiver
    receiver.stop()


def test_alert_posts_slack_and_discord_compatible_json(receiver):
    assert alert("breaker_opened", "Circuit breaker xai:1 opened", breaker="xai:1")

    assert receiver.got(1)
    payload = json.loads(receiver.received[0][1])
    assert "Circuit breaker xai:1 opened" in payload["text"]
    assert payload["content"] == payload["text"]
    assert "breaker: xai:1" in payload["text"]


def test_same_incident_within_cooldown_is_sent_once(receiver):
    first = alert("breaker_opened", "xai:1 opened", dedup_key="breaker:xai:1", error="timeout")
    second = alert("breaker_opened", "xai:1 opened", dedup_key="breaker:xai:1", error="503")
    other = alert("breaker_opened", "claude opened", dedup_key="breaker:claude")

    assert (first, second, other) == (True, False, True)
    assert receiver.got(2)
    assert len(receiver.received) == 2


def test_recent_alerts_lists_newest_first_even_without_webhook(settings):
    settings.ALERT_WEBHOOK_URL = ""
    alert("dead_letters_growing", "3 dead letters", pending=3)
    alert("interested_reply", "Casa Azul is interested", prospect_id=9)

    recent = recent_alerts(limit=5)

    assert [a.kind for a in recent] == ["interested_reply", "dead_letters_growing"]
    assert recent[0].context == {"prospect_id": 9}
    assert recent[0].delivered is False


def test_failing_webhook_is_logged_without_its_secret_and_never_raises(receiver, caplog):
    receiver.answers = [500]

    assert alert("health_unhealthy", "Redis down", dedup_key="health")

    assert receiver.got(1)
    assert recent_alerts()[0].delivered is False
    assert "alert webhook failed for health_unhealthy: HTTPStatusError" in caplog.text
    assert "s3cret-token" not in caplog.text
