"""message_send against a real SMTP server on loopback: headers, outcomes, refusals."""

from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from django.utils import timezone

from crm.models import Campaign, EmailStatus, Enrollment, Stage
from outreach.models import EmailMessage, Suppression
from outreach.sending.records import message_record_sent
from outreach.sending.services import message_send
from outreach.suppression import suppression_add
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
Status = EmailMessage.Status


def parsed(received):
    return BytesParser(policy=policy.default).parsebytes(received.message.as_bytes())


def test_a_sent_message_carries_the_headers_parts_and_footer(smtp_sink):
    inbox = make_inbox(smtp_sink, email="sam@sender.example", display_name="Sam")
    campaign = make_campaign([inbox], steps=(0, 3))
    enrollment = make_enrollment(campaign)
    message = queue_message(enrollment)

    result = message_send(message=message)

    assert result.status == "sent"
    [received] = smtp_sink.to(enrollment.prospect.email)
    mail = parsed(received)
    message.refresh_from_db()
    assert mail["Message-ID"] == message.message_id
    assert message.message_id.endswith("@sender.example>")
    unsubscribe = mail["List-Unsubscribe"]
    assert "<mailto:sam@sender.example?subject=unsubscribe>" in unsubscribe
    assert "<https://crm.example.test/u/" in unsubscribe
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert campaign.sender_postal_address in text and "https://crm.example.test/u/" in text
    assert campaign.sender_postal_address in html and "&lt;b&gt;not html&lt;/b&gt;" in html
    assert message.status == Status.SENT and message.sent_at and message.inbox == inbox


def test_success_advances_the_sequence_from_the_send_time(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)], steps=(0, 3))
    enrollment = make_enrollment(campaign)
    message = queue_message(enrollment)

    message_send(message=message)

    enrollment.refresh_from_db()
    message.refresh_from_db()
    assert enrollment.current_step == 2
    assert enrollment.next_send_at == message.sent_at + timedelta(days=3)
    assert enrollment.last_sent_at == message.sent_at
    assert enrollment.prospect.__class__.objects.get(pk=enrollment.prospect_id).stage == "contacted"


def test_a_follow_up_threads_under_a_send_recorded_after_the_sequence_moved_on(smtp_sink):
    # An uncertain first step settled as sent once the sequence had moved on: the
    # record does not move it again, yet the follow-up still continues its thread.
    inbox = make_inbox(smtp_sink)
    campaign = make_campaign([inbox, make_inbox(smtp_sink)], steps=(0, 0, 0))
    enrollment = make_enrollment(campaign)
    first = queue_message(enrollment)
    EmailMessage.objects.filter(pk=first.pk).update(
        status=Status.SENDING, inbox=inbox, message_id="<first@sender.example>"
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(current_step=2)
    first.refresh_from_db()
    message_record_sent(message=first, sent_at=timezone.now())
    enrollment.refresh_from_db()
    assert enrollment.current_step == 2 and enrollment.last_sent_at is not None

    follow_up = queue_message(enrollment, step=2)
    assert message_send(message=follow_up).status == "sent"

    follow_up.refresh_from_db()
    assert follow_up.in_reply_to == "<first@sender.example>"
    assert follow_up.inbox_id == inbox.pk


def test_the_last_step_finishes_the_enrollment(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)], steps=(0,))
    enrollment = make_enrollment(campaign)

    message_send(message=queue_message(enrollment))

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED and enrollment.next_send_at is None


def test_a_message_is_sent_once_however_often_it_is_asked(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    message = queue_message(make_enrollment(campaign))

    first = message_send(message=message)
    again = message_send(message=EmailMessage.objects.get(pk=message.pk))
    stale_copy = message_send(message=message)  # an object loaded before the send

    assert (first.status, again.status, stale_copy.status) == ("sent", "skipped", "skipped")
    assert smtp_sink.count() == 1


def test_nothing_goes_to_a_suppressed_address_or_domain(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    by_address = make_enrollment(campaign, email="gone@hotel-a.example")
    by_domain = make_enrollment(campaign, email="anyone@blocked.example")
    suppression_add(value="gone@hotel-a.example", kind=Suppression.Kind.EMAIL, reason="t")
    suppression_add(value="blocked.example", kind=Suppression.Kind.DOMAIN, reason="t")

    results = [message_send(message=queue_message(e)) for e in (by_address, by_domain)]

    assert [r.status for r in results] == ["rejected", "rejected"]
    assert smtp_sink.count() == 0
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {Status.REJECTED}
    assert set(Enrollment.objects.values_list("status", flat=True)) == {"stopped"}


def test_nothing_goes_to_a_prospect_who_replied(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign, stage=Stage.REPLIED)

    assert message_send(message=queue_message(enrollment)).status == "rejected"
    assert smtp_sink.count() == 0


def test_nothing_goes_out_outside_the_window(smtp_sink):
    now_hour = timezone.now().hour
    closed = {"window_start_hour": (now_hour + 2) % 24, "window_end_hour": (now_hour + 3) % 24}
    campaign = make_campaign([make_inbox(smtp_sink)], **closed)
    message = queue_message(make_enrollment(campaign, timezone="UTC"))

    result = message_send(message=message)

    message.refresh_from_db()
    assert result.status == "held" and result.retry_after > 0
    assert message.status == Status.QUEUED and "window" in message.error
    assert smtp_sink.count() == 0


def test_nothing_goes_out_on_a_public_holiday(smtp_sink, monkeypatch):
    campaign = make_campaign([make_inbox(smtp_sink)], skip_holidays=True)
    message = queue_message(make_enrollment(campaign, country="PT", timezone="UTC"))
    # Today is made a Portuguese holiday; the calendar is the outside world here.
    monkeypatch.setattr(
        "outreach.sending.windows.is_public_holiday", lambda *, country, day: country == "PT"
    )

    result = message_send(message=message)

    assert result.status == "held" and "holiday" in result.reason
    assert smtp_sink.count() == 0


def test_per_domain_cap_holds_across_inboxes(smtp_sink, settings):
    settings.SEND_MAX_PER_DOMAIN_PER_DAY = 2
    campaign = make_campaign([make_inbox(smtp_sink), make_inbox(smtp_sink)])
    messages = [
        queue_message(make_enrollment(campaign, email=f"desk{i}@bigchain.example"))
        for i in range(4)
    ]
    other = queue_message(make_enrollment(campaign, email="desk@small.example"))

    results = [message_send(message=m).status for m in [*messages, other]]

    assert results == ["sent", "sent", "held", "held", "sent"]
    assert len([m for m in smtp_sink.messages if m.rcpt_tos[0].endswith("bigchain.example")]) == 2


def test_a_paused_campaign_holds_its_messages(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)], status=Campaign.Status.PAUSED)
    message = queue_message(make_enrollment(campaign))

    assert message_send(message=message).status == "held"
    assert smtp_sink.count() == 0


def test_hard_bounce_marks_invalid_suppresses_and_stops(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)], steps=(0, 2))
    enrollment = make_enrollment(campaign, email="nobody@hotel.example")
    smtp_sink.bounce.add("nobody@hotel.example")

    result = message_send(message=queue_message(enrollment))

    enrollment.refresh_from_db()
    prospect = enrollment.prospect
    prospect.refresh_from_db()
    assert result.status == "bounced"
    assert prospect.email_status == EmailStatus.INVALID and prospect.stage == Stage.BOUNCED
    assert Suppression.objects.filter(value="nobody@hotel.example").exists()
    assert enrollment.status == Enrollment.Status.STOPPED


def test_bounce_protection_pauses_first_steps_and_keeps_follow_ups(smtp_sink, settings):
    settings.BOUNCE_MIN_SENDS = 4
    settings.BOUNCE_RATE_THRESHOLD = 0.2
    inbox = make_inbox(smtp_sink)
    campaign = make_campaign([inbox], steps=(0, 0))
    for i in range(3):
        message_send(message=queue_message(make_enrollment(campaign, email=f"ok{i}@a.example")))
    smtp_sink.bounce.add("bad@b.example")
    message_send(message=queue_message(make_enrollment(campaign, email="bad@b.example")))

    inbox.refresh_from_db()
    campaign.refresh_from_db()
    assert inbox.sending_paused and campaign.first_steps_paused
    first_touch = queue_message(make_enrollment(campaign, email="new@c.example"))
    assert message_send(message=first_touch).status == "held"
    follow_up = make_enrollment(campaign, email="ok9@d.example")
    Enrollment.objects.filter(pk=follow_up.pk).update(current_step=2)
    follow_up.refresh_from_db()
    assert message_send(message=queue_message(follow_up, step=2)).status == "sent"


def test_a_failing_inbox_opens_its_breaker_and_mail_moves_to_another(smtp_sink):
    broken_sink_port = smtp_sink.port
    from tests.fakes.smtp import SmtpSink

    healthy = SmtpSink().start()
    try:
        broken = make_inbox(smtp_sink, email="broken@sender.example")
        good = make_inbox(healthy, email="good@sender.example")
        smtp_sink.refuse_mail = True
        # The broken inbox has rested longest, so rotation tries it first.
        campaign = make_campaign([broken, good])
        good.last_sent_at = timezone.now()
        good.save()
        results = [message_send(message=queue_message(make_enrollment(campaign))) for _ in range(5)]
        assert [r.status for r in results] == ["sent"] * 5
        assert {r.inbox_id for r in results} == {good.pk}
        assert healthy.count() == 5 and smtp_sink.count() == 0
        from outreach.sending.rotation import inbox_breaker

        assert inbox_breaker(broken).state == "open"
        broken.refresh_from_db()
        assert "451" in broken.last_error and broken_sink_port
    finally:
        healthy.stop()


def test_when_every_inbox_fails_the_message_waits_queued(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    smtp_sink.stop()
    message = queue_message(make_enrollment(campaign))

    result = message_send(message=message)

    message.refresh_from_db()
    assert result.status == "held" and message.status == Status.QUEUED


def test_a_connection_lost_during_data_is_uncertain_never_resent(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    smtp_sink.drop_during_data = True
    message = queue_message(make_enrollment(campaign))

    first = message_send(message=message)
    smtp_sink.drop_during_data = False
    second = message_send(message=EmailMessage.objects.get(pk=message.pk))

    message.refresh_from_db()
    assert first.status == "uncertain" and second.status == "skipped"
    assert message.status == Status.UNCERTAIN and message.message_id
    assert smtp_sink.count() == 1  # it did arrive; we just could not know


def test_follow_ups_use_the_inbox_that_sent_the_first_step(smtp_sink):
    inboxes = [make_inbox(smtp_sink) for _ in range(3)]
    campaign = make_campaign(inboxes, steps=(0, 0))
    enrollment = make_enrollment(campaign)
    first = message_send(message=queue_message(enrollment))
    for inbox in inboxes:  # make the first inbox look busiest
        inbox.last_sent_at = timezone.now() - timedelta(hours=inbox.pk == first.inbox_id and 0 or 5)
        inbox.save()
    enrollment.refresh_from_db()

    second = message_send(message=queue_message(enrollment, step=2))

    assert second.inbox_id == first.inbox_id


def test_the_backfill_gives_enrollments_that_sent_their_last_send_time(smtp_sink):
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("outreach.migrations.0005_enrollment_last_sent_at_backfill")
    campaign = make_campaign([make_inbox(smtp_sink)], steps=(0, 0, 0))
    sent_one, never_sent = make_enrollment(campaign), make_enrollment(campaign)
    earlier, later = timezone.now() - timedelta(days=3), timezone.now() - timedelta(days=1)
    for step, sent_at in ((1, earlier), (2, later)):
        message = queue_message(sent_one, step=step)
        EmailMessage.objects.filter(pk=message.pk).update(status=Status.SENT, sent_at=sent_at)
    queue_message(never_sent)
    Enrollment.objects.update(last_sent_at=None)

    backfill.last_sent_at_backfill(apps, None)

    sent_one.refresh_from_db()
    never_sent.refresh_from_db()
    assert sent_one.last_sent_at == later
    assert never_sent.last_sent_at is None
