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


def test_a_strangers_words_in_an_alert_ping_nobody_and_link_nowhere(receiver):
    subject = (
        "<!channel> @everyone @here urgent: <https://evil.example/pay|your invoice> "
        "[open](http://evil.example/login) <@U024BE7LH> <@&1234> javascript:alert(1)"
    )

    assert alert("interested_reply", f"anna@hotel.example replied: {subject}", inbound_id=7)

    assert receiver.got(1)
    payload = json.loads(receiver.received[0][1])
    assert payload["allowed_mentions"] == {"parse": []}  # Discord: parse no mention at all
    for field in ("text", "content"):
        text = payload[field]
        assert "<" not in text and ">" not in text  # no Slack/Discord control sequence
        assert "@everyone" not in text and "@here" not in text
        assert "https://" not in text and "http://" not in text and "javascript:" not in text
        assert "](" not in text  # no Markdown masked link
        assert "evil.example" not in text  # a bare domain is not linked either
        assert "hxxps[:]//evil[.]example/pay" in text  # still readable for a person
