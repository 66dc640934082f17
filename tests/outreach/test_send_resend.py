"""Resend inboxes through anymail against a loopback stand-in for Resend's API: each inbox
uses its own key, our headers pass through, and Resend's errors are classified like SMTP's
(inbox trouble moves the mail to another inbox; a refusal of the message fails it)."""

import pytest
from django.utils import timezone

from crm.models import Enrollment, Inbox
from outreach.models import EmailMessage
from outreach.sending.rotation import inbox_breaker
from outreach.sending.services import message_send
from tests.factories import InboxFactory
from tests.fakes.resend import FakeResend
from tests.outreach.sending_fixtures import make_campaign, make_enrollment, queue_message

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
Status = EmailMessage.Status
KEY_A, KEY_B = "re_key_a_secret", "re_key_b_secret"


@pytest.fixture
def resend(settings):
    fake = FakeResend(keys={KEY_A, KEY_B}).start()
    settings.RESEND_API_URL = fake.url
    yield fake
    fake.stop()


def resend_inbox(key: str, **fields) -> Inbox:
    return InboxFactory(
        transport=Inbox.Transport.RESEND,
        resend_api_key=key,
        min_gap_seconds=0,
        warmup_enabled=False,
        daily_limit=1000,
        **fields,
    )


@pytest.fixture
def a_then_b():
    """Two Resend inboxes; A has rested longest, so rotation tries it first."""
    first = resend_inbox(KEY_A, email="a@sender.example")
    second = resend_inbox(KEY_B, email="b@sender.example", last_sent_at=timezone.now())
    return first, second, make_campaign([first, second])


def test_each_inbox_sends_with_its_own_key_and_our_headers(resend):
    first = resend_inbox(KEY_A, email="a@sender.example")
    second = resend_inbox(KEY_B, email="b@sender.example")
    campaign = make_campaign([first, second])
    messages = [queue_message(make_enrollment(campaign)) for _ in range(2)]

    results = [message_send(message=m) for m in messages]

    assert [r.status for r in results] == ["sent", "sent"]
    keys = {first.pk: KEY_A, second.pk: KEY_B}
    assert [key for key, _ in resend.sent] == [keys[r.inbox_id] for r in results]
    assert {r.inbox_id for r in results} == {first.pk, second.pk}  # rotation
    for message, (_, payload) in zip(messages, resend.sent, strict=True):
        message.refresh_from_db()
        headers = payload["headers"]
        assert headers["Message-ID"] == message.message_id
        assert headers["List-Unsubscribe"].startswith(f"<mailto:{message.from_email}?")
        assert "<https://crm.example.test/u/" in headers["List-Unsubscribe"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert payload["to"] == [message.to_email] and "/u/" in payload["text"]
        assert message.status == Status.SENT


@pytest.mark.parametrize(
    "answer",
    [(500, "application_error"), (429, "daily_quota_exceeded"), (422, "invalid_from_address")],
)
def test_resend_trouble_with_the_inbox_moves_the_mail_to_another(resend, a_then_b, answer):
    first, second, campaign = a_then_b
    resend.fail[KEY_A] = answer

    results = [message_send(message=queue_message(make_enrollment(campaign))) for _ in range(3)]

    assert [(r.status, r.inbox_id) for r in results] == [("sent", second.pk)] * 3
    assert [key for key, _ in resend.sent] == [KEY_B] * 3
    assert inbox_breaker(first).state == "open"  # three failures in a row
    first.refresh_from_db()
    assert str(answer[0]) in first.last_error and KEY_A not in first.last_error


def test_a_wrong_key_is_an_inbox_failure(resend):
    campaign = make_campaign([resend_inbox("re_revoked_key")])
    message = queue_message(make_enrollment(campaign))

    result = message_send(message=message)

    message.refresh_from_db()
    assert result.status == "held" and message.status == Status.QUEUED
    assert "403" in message.error and "re_revoked_key" not in message.error


def test_resend_refusing_the_message_fails_it_without_blaming_the_inbox(resend, a_then_b):
    first, _, campaign = a_then_b
    resend.fail[KEY_A] = (422, "validation_error")
    message = queue_message(make_enrollment(campaign))

    result = message_send(message=message)

    message.refresh_from_db()
    assert result.status == "failed" and message.status == Status.FAILED
    assert resend.requests == 1 and resend.sent == []  # not retried through B
    assert inbox_breaker(first).state == "closed"
    assert Enrollment.objects.get(pk=message.enrollment_id).status == Enrollment.Status.STOPPED


def test_resend_unreachable_leaves_the_message_queued(resend):
    campaign = make_campaign([resend_inbox(KEY_A)])
    message = queue_message(make_enrollment(campaign))
    resend.stop()

    result = message_send(message=message)

    message.refresh_from_db()
    assert result.status == "held" and message.status == Status.QUEUED


def test_no_answer_after_the_request_went_out_is_uncertain(resend):
    campaign = make_campaign([resend_inbox(KEY_A)])
    message = queue_message(make_enrollment(campaign))
    resend.drop = True

    first = message_send(message=message)
    resend.drop = False
    again = message_send(message=EmailMessage.objects.get(pk=message.pk))

    message.refresh_from_db()
    assert (first.status, again.status) == ("uncertain", "skipped")
    assert message.status == Status.UNCERTAIN and resend.sent == []
