"""Uncertain sends (the connection broke during DATA) are settled by an operator in the
admin: "delivered" records the send as the sender would, "not delivered" sends it again
once. Both record who decided."""

from datetime import timedelta

import pytest
from django.urls import reverse

from crm.models import Enrollment, Stage
from jengu.events.models import Event
from outreach.models import EmailMessage
from outreach.sending.resolve import message_resolve_uncertain
from outreach.sending.services import message_send
from outreach.sending.warmup import inbox_sent_today
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
Status = EmailMessage.Status
CHANGELIST = "admin:outreach_emailmessage_changelist"


@pytest.fixture
def uncertain(smtp_sink):
    """A message whose connection dropped during DATA, in a two-step campaign."""
    inbox = make_inbox(smtp_sink)
    enrollment = make_enrollment(make_campaign([inbox], steps=(0, 3)))
    message = queue_message(enrollment)
    smtp_sink.drop_during_data = True
    assert message_send(message=message).status == "uncertain"
    smtp_sink.drop_during_data = False
    message.refresh_from_db()
    return message


def events(event_type: str) -> list[int]:
    return [
        p["message_id"]
        for p in Event.objects.filter(type=event_type).values_list("payload", flat=True)
    ]


def run_action(admin_client, action: str, *messages: EmailMessage):
    return admin_client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [m.pk for m in messages]},
        follow=True,
    )


def test_the_changelist_shows_uncertain_messages_to_decide(admin_client, uncertain):
    page = admin_client.get(reverse(CHANGELIST), {"status__exact": "uncertain"}).content.decode()

    assert uncertain.subject in page
    assert "Mark as sent (it was delivered)" in page and "Send again (it was not delivered)" in page


def test_marking_delivered_advances_the_sequence_like_a_normal_send(admin_client, uncertain):
    response = run_action(admin_client, "mark_uncertain_delivered", uncertain)

    assert "1 uncertain message(s) marked as sent" in response.content.decode()
    uncertain.refresh_from_db()
    enrollment = Enrollment.objects.get(pk=uncertain.enrollment_id)
    assert uncertain.status == Status.SENT and uncertain.sent_at
    assert (uncertain.resolved_by, bool(uncertain.resolved_at)) == ("user:admin", True)
    assert enrollment.current_step == 2
    assert enrollment.next_send_at == uncertain.sent_at + timedelta(days=3)
    assert uncertain.prospect.__class__.objects.get(pk=uncertain.prospect_id).stage == (
        Stage.CONTACTED
    )
    assert events("EmailSent") == [uncertain.pk]


def test_sending_again_queues_it_and_it_goes_out_once(
    admin_client, uncertain, smtp_sink, django_capture_on_commit_callbacks
):
    first_message_id = uncertain.message_id
    assert inbox_sent_today(inbox=uncertain.inbox) == 1  # the doubtful attempt holds a slot

    with django_capture_on_commit_callbacks(execute=True):
        response = run_action(admin_client, "send_uncertain_again", uncertain)

    assert "1 uncertain message(s) queued to send again" in response.content.decode()
    uncertain.refresh_from_db()
    assert uncertain.status == Status.QUEUED and uncertain.resolved_by == "user:admin"
    assert events("SendEmail") == [uncertain.pk]
    assert inbox_sent_today(inbox=uncertain.inbox) == 0  # the slot is given back
    received_before = smtp_sink.count()

    assert message_send(message=uncertain).status == "sent"
    assert message_send(message=EmailMessage.objects.get(pk=uncertain.pk)).status == "skipped"
    uncertain.refresh_from_db()
    assert smtp_sink.count() == received_before + 1
    assert uncertain.status == Status.SENT and uncertain.message_id != first_message_id
    assert inbox_sent_today(inbox=uncertain.inbox) == 1


def test_only_uncertain_messages_are_settled(admin_client, uncertain, smtp_sink):
    other = queue_message(make_enrollment(uncertain.campaign))
    assert message_send(message=other).status == "sent"

    response = run_action(admin_client, "send_uncertain_again", uncertain, other)

    page = response.content.decode()
    assert "1 uncertain message(s) queued" in page and "1 skipped" in page
    other.refresh_from_db()
    assert other.status == Status.SENT and other.resolved_by == ""


def test_a_second_decision_changes_nothing(uncertain):
    assert message_resolve_uncertain(message=uncertain, delivered=True, by="user:maria")

    again = message_resolve_uncertain(message=uncertain, delivered=False, by="user:joe")

    uncertain.refresh_from_db()
    assert again is False
    assert (uncertain.status, uncertain.resolved_by) == (Status.SENT, "user:maria")
    assert events("SendEmail") == []
