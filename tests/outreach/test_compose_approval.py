"""Review before send: approve, edit or reject composed e-mails (services and admin)."""

import pytest
from django.urls import reverse

from crm.models import Enrollment
from jengu.redis_helpers import CircuitBreaker
from outreach.approval import NotPendingApproval, message_approve, message_reject
from outreach.models import AICall, EmailMessage
from tests.factories import CampaignStepFactory, EnrollmentFactory
from tests.outreach.conftest import send_email_events

pytestmark = pytest.mark.django_db


def pending_message(**fields) -> EmailMessage:
    step = CampaignStepFactory(order=1)
    enrollment = EnrollmentFactory(campaign=step.campaign)
    return EmailMessage.objects.create(
        direction=EmailMessage.Direction.OUTBOUND,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        campaign=step.campaign,
        step=1,
        to_email=enrollment.prospect.email,
        subject="Draft subject",
        body="Draft body written by a model.",
        status=EmailMessage.Status.PENDING_APPROVAL,
        idempotency_key=EmailMessage.idempotency_key_for(enrollment.pk, 1),
        provider="grok:1",
        **fields,
    )


def test_approving_queues_the_message_and_emits_send_email():
    message = pending_message()

    message_approve(message=message, by="user:maria")

    message.refresh_from_db()
    assert (message.status, message.reviewed_by) == (EmailMessage.Status.QUEUED, "user:maria")
    assert message.reviewed_at is not None
    assert send_email_events() == [{"message_id": message.pk}]


def test_a_message_cannot_be_approved_twice():
    message = pending_message()
    message_approve(message=message, by="user:maria")

    with pytest.raises(NotPendingApproval, match="is queued"):
        message_approve(message=message, by="user:joe")

    assert len(send_email_events()) == 1


def test_rejecting_records_why_stops_the_sequence_and_sends_nothing():
    message = pending_message()

    message_reject(message=message, by="user:maria", reason="wrong contact")

    message.refresh_from_db()
    enrollment = Enrollment.objects.get(pk=message.enrollment_id)
    assert (message.status, message.review_note) == (EmailMessage.Status.REJECTED, "wrong contact")
    assert enrollment.status == Enrollment.Status.STOPPED
    assert enrollment.stop_reason == "message rejected by user:maria: wrong contact"
    assert send_email_events() == []


@pytest.fixture
def staff(admin_client):
    return admin_client


def test_queue_lists_only_pending_messages(staff):
    pending = pending_message()
    queued = pending_message()
    EmailMessage.objects.filter(pk=queued.pk).update(status=EmailMessage.Status.QUEUED)

    page = staff.get(reverse("admin:outreach_pendingapproval_changelist"))

    assert page.status_code == 200
    assert pending.to_email.encode() in page.content
    assert queued.to_email.encode() not in page.content


def test_change_form_offers_approve_and_reject(staff):
    message = pending_message()

    page = staff.get(reverse("admin:outreach_pendingapproval_change", args=[message.pk]))

    assert page.status_code == 200
    assert b'name="_approve"' in page.content and b'name="_reject"' in page.content
    assert b"Draft body written by a model." in page.content


def test_reject_from_the_change_form_records_the_reason(staff):
    message = pending_message()
    url = reverse("admin:outreach_pendingapproval_change", args=[message.pk])

    staff.post(
        url,
        {"subject": message.subject, "body": message.body, "_reject": "1", "reject_reason": "tone"},
    )

    message.refresh_from_db()
    assert (message.status, message.review_note) == (EmailMessage.Status.REJECTED, "tone")


def test_edit_then_save_and_approve_from_the_change_form(staff):
    message = pending_message()
    url = reverse("admin:outreach_pendingapproval_change", args=[message.pk])

    response = staff.post(
        url, {"subject": "Edited subject", "body": "Edited body, by a person.", "_approve": "1"}
    )

    message.refresh_from_db()
    assert response.status_code == 302
    assert (message.subject, message.status) == ("Edited subject", EmailMessage.Status.QUEUED)
    assert message.reviewed_by == "user:admin"
    assert send_email_events() == [{"message_id": message.pk}]


def test_bulk_reject_asks_for_a_reason_first(staff):
    messages = [pending_message(), pending_message()]
    url = reverse("admin:outreach_pendingapproval_changelist")
    selected = {"action": "reject_selected", "_selected_action": [m.pk for m in messages]}

    form = staff.post(url, selected)
    assert form.status_code == 200 and b'name="reason"' in form.content
    assert EmailMessage.objects.filter(status=EmailMessage.Status.REJECTED).count() == 0

    staff.post(url, {**selected, "confirm": "1", "reason": "not our audience"})

    assert set(EmailMessage.objects.values_list("status", "review_note")) == {
        (EmailMessage.Status.REJECTED, "not our audience")
    }


def test_bulk_approve(staff):
    messages = [pending_message(), pending_message()]

    staff.post(
        reverse("admin:outreach_pendingapproval_changelist"),
        {"action": "approve_selected", "_selected_action": [m.pk for m in messages]},
    )

    assert len(send_email_events()) == 2


def test_ai_call_admin_shows_breakers_and_resets_one(staff, ai_settings, fake_grok):
    AICall.objects.create(provider="grok:1", success=False, error_class="timeout")
    CircuitBreaker("ai:grok:1").open_for(600)

    page = staff.get(reverse("admin:outreach_aicall_changelist"))

    assert page.status_code == 200
    text = page.content.decode()
    for name in ("ai:grok:1", "ai:grok:2", "ai:claude"):
        assert name in text
    assert "<strong>open</strong>" in text

    staff.post(reverse("admin:outreach_aicall_reset_breaker", args=["ai:grok:1"]))

    assert CircuitBreaker("ai:grok:1").state == "closed"


def test_breaker_reset_needs_the_permission_and_an_ai_breaker(
    client, django_user_model, ai_settings
):
    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client.force_login(viewer)
    CircuitBreaker("ai:grok:1").open_for(600)

    response = client.post(reverse("admin:outreach_aicall_reset_breaker", args=["ai:grok:1"]))

    assert response.status_code == 403
    assert CircuitBreaker("ai:grok:1").state == "open"
