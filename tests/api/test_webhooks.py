"""Outbound webhooks through the real pipeline: signed, retried, dead-lettered."""

from __future__ import annotations

import json
import time

import dramatiq
import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.services import prospect_change_stage
from jengu.apikeys.models import WebhookDelivery, WebhookSubscription
from jengu.apikeys.webhooks import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    webhook_deliver,
    webhook_signature,
    webhook_signature_verify,
    webhook_url_check,
    webhooks_publish,
)
from jengu.events.models import DeadLetter
from jengu.failures import TransientError
from outreach.models import EmailMessage
from outreach.sending.records import message_record_bounce, message_record_sent
from tests.factories import ProspectFactory
from tests.fakes.webhook_receiver import WebhookReceiver

SECRET = "whsec-test"


@pytest.fixture
def receiver():
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def worker(transactional_db, settings):
    settings.WEBHOOK_RETRY_MIN_BACKOFF_MS = 100
    settings.WEBHOOK_RETRY_MAX_BACKOFF_MS = 200
    settings.WEBHOOK_MAX_RETRIES = 2
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    # The fake receiver listens on loopback, which the guard refuses unless allowed.
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, queues={"track"}, worker_timeout=100, worker_threads=2)
    worker.start()
    yield broker
    worker.stop()


def _subscribe(receiver: WebhookReceiver, events: list[str]) -> WebhookSubscription:
    return WebhookSubscription.objects.create(url=receiver.url, events=events, secret=SECRET)


def _wait_for(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _publish(event: str, data: dict) -> list[WebhookDelivery]:
    with transaction.atomic():
        return webhooks_publish(event=event, data=data)


def test_delivery_is_signed_and_verifiable(worker, receiver) -> None:
    subscription = _subscribe(receiver, ["prospect.replied"])
    _subscribe(receiver, ["email.sent"])  # not interested in replies: gets nothing
    [delivery] = _publish("prospect.replied", {"prospect_id": 7, "label": "interested"})
    assert receiver.got(1)
    headers, body = receiver.received[0]
    assert webhook_signature_verify(
        secret=SECRET,
        timestamp=headers[TIMESTAMP_HEADER],
        body=body,
        signature=headers[SIGNATURE_HEADER],
    )
    assert not webhook_signature_verify(
        secret="wrong", timestamp=headers[TIMESTAMP_HEADER], body=body,
        signature=headers[SIGNATURE_HEADER],
    )  # fmt: skip
    payload = json.loads(body)
    assert payload["event"] == "prospect.replied"
    assert payload["data"] == {"prospect_id": 7, "label": "interested"}
    assert headers["X-Jengu-Delivery"] == payload["delivery_id"] == str(delivery.delivery_id)
    assert _wait_for(lambda: _status(delivery) == "delivered")
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 1
    assert WebhookDelivery.objects.count() == 1


def test_receiver_errors_are_retried_until_delivered(worker, receiver) -> None:
    _subscribe(receiver, ["*"])
    receiver.answers = [503, "hang"]
    [delivery] = _publish("email.sent", {"message_id": 1})
    assert receiver.got(3)
    assert _wait_for(lambda: _status(delivery) == "delivered")
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.response_status == 200
    assert not DeadLetter.objects.exists()


def test_refused_delivery_goes_to_dead_letters_without_retry(worker, receiver) -> None:
    _subscribe(receiver, ["prospect.unsubscribed"])
    receiver.answers = [410]
    [delivery] = _publish("prospect.unsubscribed", {"prospect_id": 3})
    assert _wait_for(lambda: DeadLetter.objects.filter(event_type="DeliverWebhook").exists())
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.response_status == 410
    assert delivery.error == "HTTP 410 Gone", "the receiver's body is not kept"
    assert len(receiver.received) == 1
    dead = DeadLetter.objects.get()
    assert dead.args == {"delivery_id": delivery.pk}
    assert dead.classification == "permanent"


def test_a_receiver_that_drips_its_answer_cannot_hold_the_worker(receiver, db, settings) -> None:
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _subscribe(receiver, ["*"])
    receiver.answers = ["drip"]
    [delivery] = _publish("email.sent", {"message_id": 1})

    with pytest.raises(TransientError):
        webhook_deliver(delivery_id=delivery.pk)

    # A bound on what was read, not on time: about 0.5 s of its 10 s of header bytes.
    assert receiver.sent_bytes < 100
    delivery.refresh_from_db()
    assert delivery.status == "failed"


def test_the_body_of_a_receivers_answer_is_never_read(receiver, db, settings) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    _subscribe(receiver, ["*"])
    receiver.answers = ["flood"]  # 200, then 256 MiB of body
    [delivery] = _publish("email.sent", {"message_id": 1})

    webhook_deliver(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert receiver.sent_bytes < 16 * 2**20, "no more than the sockets' buffers"


def test_a_receiver_on_a_private_address_is_never_posted_to(worker, receiver, settings) -> None:
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    _subscribe(receiver, ["*"])

    [delivery] = _publish("email.sent", {"message_id": 1})

    assert _wait_for(lambda: DeadLetter.objects.filter(event_type="DeliverWebhook").exists())
    assert DeadLetter.objects.get().classification == "permanent", "not retried"
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "non-public 127.0.0.1" in delivery.error
    assert receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "https://10.1.2.3/hook",
        "http://[::1]:8000/hook",
        "ftp://files.example.com/hook",
        "file:///etc/passwd",
    ],
)
def test_the_url_check_refuses_private_addresses_and_other_schemes(url, db) -> None:
    with pytest.raises(ValueError):
        webhook_url_check(url)


def test_the_admin_refuses_a_subscription_to_the_metadata_address(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:apikeys_webhooksubscription_add"),
        {"url": "http://169.254.169.254/latest/", "events": ["*"], "secret": "s", "active": "on"},
    )

    assert response.status_code == 200
    assert "public addresses only" in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_nothing_is_sent_when_the_transaction_rolls_back(worker, receiver) -> None:
    _subscribe(receiver, ["*"])
    with pytest.raises(RuntimeError), transaction.atomic():
        webhooks_publish(event="email.sent", data={"message_id": 1})
        raise RuntimeError("the change that would have been announced failed")
    assert not WebhookDelivery.objects.exists()
    assert not receiver.got(1, timeout=0.5)


def test_unknown_event_name_is_refused(db) -> None:
    with pytest.raises(ValueError, match="unknown webhook event"):
        webhooks_publish(event="prospect.teleported", data={})


def test_old_timestamps_are_refused_by_verification() -> None:
    old = str(int(time.time()) - 3600)
    signature = webhook_signature(secret=SECRET, timestamp=old, body=b"{}")
    assert not webhook_signature_verify(
        secret=SECRET, timestamp=old, body=b"{}", signature=signature
    )
    assert not webhook_signature_verify(
        secret=SECRET, timestamp="soon", body=b"{}", signature=signature
    )


def _status(delivery: WebhookDelivery) -> str:
    return WebhookDelivery.objects.get(pk=delivery.pk).status


def test_stage_changes_publish_their_events(db) -> None:
    WebhookSubscription.objects.create(url="http://127.0.0.1:9/x", events=["*"], secret=SECRET)
    prospect = ProspectFactory(stage="contacted")
    prospect_change_stage(prospect=prospect, to_stage="replied", changed_by="actor:reply")
    published = WebhookDelivery.objects.order_by("pk")
    assert [d.event for d in published] == ["prospect.stage_changed", "prospect.replied"]
    data = published[1].payload["data"]
    assert (data["prospect_id"], data["from_stage"], data["stage"]) == (
        prospect.pk,
        "contacted",
        "replied",
    )


def test_a_recorded_send_publishes_email_sent(db) -> None:
    WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/x", events=["email.sent"], secret=SECRET
    )
    prospect = ProspectFactory(stage="ready")
    message = EmailMessage.objects.create(
        direction="outbound", prospect=prospect, status="sending", to_email=prospect.email
    )
    assert message_record_sent(message=message, sent_at=timezone.now())
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "email.sent"
    assert delivery.payload["data"]["message_id"] == message.pk
    assert delivery.payload["data"]["to"] == prospect.email


def test_a_hard_bounce_publishes_email_bounced(db) -> None:
    WebhookSubscription.objects.create(
        url="http://127.0.0.1:9/x", events=["email.bounced"], secret=SECRET
    )
    prospect = ProspectFactory(stage="ready")
    message = EmailMessage.objects.create(
        direction="outbound", prospect=prospect, status="sending", to_email=prospect.email
    )
    message_record_bounce(message=message, detail="550 no such user")
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "email.bounced"
    assert delivery.payload["data"]["message_id"] == message.pk
    assert delivery.payload["data"]["to"] == prospect.email
