"""Store → thread → classify → effects, as the InboundEmail actor runs them.

Given a prospect we e-mailed (a live sequence, our message in its thread), when a
message arrives, then the CRM shows what a sales person would expect.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm.enrollments import enrollments_resume_after_ooo
from crm.models import EmailStatus, Enrollment, Stage
from jengu.alerts import recent_alerts
from jengu.bus import InvalidDataError
from outreach.models import EmailMessage, InboundEmail
from outreach.replies.services import (
    inbound_process,
    inbound_relabel,
    inbound_reprocess,
    inbound_store,
)
from outreach.suppression import is_suppressed
from tests.factories import CampaignFactory
from tests.outreach.replies_fixtures import eml, receive

pytestmark = pytest.mark.django_db
Label = InboundEmail.Label
# What our receiving server (authserv-id mx.jengu.example) adds on top of an
# authenticated message from hotel-rome.example.
AUTH_RESULTS_PASS = (
    b"Authentication-Results: mx.jengu.example;\r\n"
    b"  dkim=pass header.i=@hotel-rome.example header.s=s1;\r\n"
    b"  spf=pass smtp.mailfrom=ella@hotel-rome.example;\r\n"
    b"  dmarc=pass (p=REJECT) header.from=hotel-rome.example\r\n"
)


def _refresh(*rows):
    for row in rows:
        row.refresh_from_db()


def test_interested_reply_stops_the_sequence_flags_a_human_and_alerts(
    contact, django_capture_on_commit_callbacks
):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")

    with django_capture_on_commit_callbacks(execute=True):
        inbound, result = receive("gmail_interested.eml")

    _refresh(anna.prospect, anna.enrollment)
    assert (inbound.label, inbound.method, inbound.match_method) == (
        Label.INTERESTED,
        "rules",
        "header",
    )
    assert inbound.needs_human and inbound.replied_to == anna.outbound
    assert anna.enrollment.status == Enrollment.Status.REPLIED
    assert anna.enrollment.next_send_at is None
    assert anna.prospect.stage == Stage.REPLIED
    assert anna.prospect.stage_changes.get().changed_by == "actor:InboundEmail"
    assert [(a.kind, a.context["inbound_id"]) for a in recent_alerts()] == [
        ("interested_reply", inbound.pk)
    ]
    assert "1 sequence(s) stopped" in result.effects


def test_the_reply_appears_in_the_prospects_thread(contact):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")

    inbound, _ = receive("gmail_interested.eml")

    thread = list(anna.prospect.messages.order_by("created_at"))
    assert [m.direction for m in thread] == ["outbound", "inbound"]
    reply = thread[1]
    assert inbound.email_message == reply
    assert (reply.status, reply.in_reply_to, reply.campaign, reply.step) == (
        EmailMessage.Status.RECEIVED,
        "<step1.anna@jengu.example>",
        anna.outbound.campaign,
        1,
    )
    assert "Yes, we are interested" in reply.body


def test_a_reply_stops_sequences_in_every_campaign_of_that_prospect(contact):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    other = Enrollment.objects.create(prospect=anna.prospect, campaign=CampaignFactory())

    receive("gmail_interested.eml")

    other.refresh_from_db()
    assert other.status == Enrollment.Status.REPLIED


def test_storing_is_idempotent_on_provider_id_and_on_message_id(contact):
    raw = eml("gmail_interested.eml")

    first = inbound_store(raw=raw, source="webhook", provider_message_id="esp-1", emit_event=False)
    again = inbound_store(raw=raw, source="webhook", provider_message_id="esp-1", emit_event=False)
    via_imap = inbound_store(raw=raw, source="imap", provider_message_id="imap:9", emit_event=False)

    assert first.pk == again.pk == via_imap.pk
    assert InboundEmail.objects.count() == 1
    assert bytes(first.raw) == raw  # kept exactly as received


def test_processing_twice_applies_effects_once(contact):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    inbound, _ = receive("gmail_interested.eml")

    again = inbound_process(inbound=inbound)

    assert again.status == "processed"
    assert anna.prospect.stage_changes.count() == 1
    assert EmailMessage.objects.filter(direction="inbound").count() == 1


def test_our_own_bcc_copy_is_never_taken_for_a_reply(contact):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")

    inbound, result = receive("own_bcc_copy.eml")

    _refresh(anna.enrollment, anna.prospect)
    assert (inbound.status, inbound.label, result.match) == ("ignored", "", "own")
    assert anna.enrollment.status == Enrollment.Status.ACTIVE
    assert anna.prospect.stage == Stage.CONTACTED


def test_mail_from_a_sent_folder_is_ignored(contact, our_inbox):
    raw = (
        b"From: Jengu Sales <sales@jengu.example>\r\nTo: x@y.example\r\nSubject: hi\r\n"
        b"Message-ID: <manual-1@jengu.example>\r\n\r\nA message a person sent by hand.\r\n"
    )
    inbound, _ = receive(raw, source="imap", inbox=our_inbox, folder="Sent")
    assert inbound.status == "ignored"


def test_unknown_sender_is_kept_unmatched_for_review(contact):
    inbound, result = receive("unknown_sender_question.eml")

    assert (inbound.status, inbound.label, inbound.match_method) == (
        "processed",
        "question",
        "none",
    )
    assert inbound.prospect is None and inbound.needs_human
    assert result.effects == ["unmatched sender: kept for review"]
    assert inbound.email_message.direction == "inbound"  # still visible in message lists


def test_a_from_only_opt_out_is_held_for_a_person_and_changes_nothing(contact):
    ella = contact("ella@hotel-rome.example", "<step1.ella@jengu.example>")

    inbound, result = receive("unsubscribe_plain.eml")  # no thread headers, no auth results

    _refresh(ella.prospect, ella.enrollment)
    assert (inbound.label, inbound.match_method) == (Label.UNSUBSCRIBE, "sender")
    assert inbound.prospect == ella.prospect and inbound.needs_human
    assert not is_suppressed("ella@hotel-rome.example")
    assert ella.prospect.stage == Stage.CONTACTED
    assert ella.enrollment.status == Enrollment.Status.ACTIVE
    assert result.effects[0].startswith("opt-out held for a person to confirm")


def test_an_authenticated_sender_without_thread_headers_is_believed(contact, settings):
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.jengu.example"]
    ella = contact("ella@hotel-rome.example", "<step1.ella@jengu.example>")
    raw = AUTH_RESULTS_PASS + eml("unsubscribe_plain.eml")

    inbound, _ = receive(raw)

    _refresh(ella.prospect, ella.enrollment)
    assert (inbound.label, inbound.match_method) == (Label.UNSUBSCRIBE, "sender")
    assert is_suppressed("ella@hotel-rome.example")
    assert ella.prospect.stage == Stage.UNSUBSCRIBED
    assert ella.enrollment.status == Enrollment.Status.REPLIED
    assert not inbound.needs_human


def test_non_english_unsubscribe_suppresses_and_stops(contact):
    marie = contact("marie@hotel-paris.example", "<step2.marie@jengu.example>")

    inbound, _ = receive("french_unsubscribe_html.eml")

    marie.prospect.refresh_from_db()
    assert inbound.label == Label.UNSUBSCRIBE
    assert is_suppressed("marie@hotel-paris.example")
    assert marie.prospect.stage == Stage.UNSUBSCRIBED


def test_an_unknown_senders_opt_out_is_honoured_only_when_authenticated(contact, settings):
    raw = eml("unsubscribe_plain.eml")  # nobody with this address in the CRM
    inbound, _ = receive(raw)
    assert inbound.match_method == "none" and inbound.needs_human
    assert not is_suppressed("ella@hotel-rome.example")

    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.jengu.example"]
    receive(AUTH_RESULTS_PASS + raw.replace(b"Message-ID: <", b"Message-ID: <again."))
    assert is_suppressed("ella@hotel-rome.example")


def test_hard_bounce_invalidates_suppresses_and_counts_against_the_inbox(contact):
    bob = contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")

    inbound, _ = receive("postfix_dsn_hard.eml")

    _refresh(bob.prospect, bob.enrollment, bob.outbound, bob.inbox)
    assert (inbound.label, inbound.match_method) == (Label.BOUNCE_HARD, "header")
    assert bob.prospect.email_status == EmailStatus.INVALID
    assert bob.prospect.stage == Stage.BOUNCED
    assert is_suppressed("bob@hotel-denver.example")
    assert bob.enrollment.status == Enrollment.Status.STOPPED
    assert bob.outbound.status == EmailMessage.Status.BOUNCED
    assert bob.inbox.bounce_count == 1
    assert not inbound.needs_human

    inbound_reprocess(inbound=inbound)  # after a fix, say: health is not counted twice
    bob.inbox.refresh_from_db()
    assert bob.inbox.bounce_count == 1


def test_exchange_ndr_is_threaded_by_its_headers(contact):
    sue = contact("sue@contoso-hotel.example", "<step1.sue@jengu.example>")

    inbound, _ = receive("exchange_dsn_hard.eml")

    sue.prospect.refresh_from_db()
    assert (inbound.label, inbound.replied_to) == (Label.BOUNCE_HARD, sue.outbound)
    assert sue.prospect.stage == Stage.BOUNCED


def test_a_full_mailbox_is_counted_then_stops_the_sequence_without_suppressing(contact, settings):
    kim = contact("kim@hotel-seoul.example", "<step1.kim@jengu.example>")
    settings.REPLY_SOFT_BOUNCE_LIMIT = 2
    raw = eml("gmail_dsn_mailbox_full.eml")  # 552 5.2.2: permanent code, temporary reason

    first, result = receive(raw)
    _refresh(kim.enrollment, kim.outbound)
    assert (first.label, first.details["reason"]) == (Label.BOUNCE_SOFT, "mailbox_full")
    assert result.effects == ["mailbox_full: soft bounce 1 of 2, the next step retries"]
    assert kim.enrollment.status == Enrollment.Status.ACTIVE
    assert kim.outbound.status == EmailMessage.Status.SENT  # not a bounce against the inbox

    receive(raw.replace(b"<6765e4c3.0a1b2c3d.full-1@", b"<6765e4c3.0a1b2c3d.full-2@"))
    _refresh(kim.prospect, kim.enrollment)
    assert kim.prospect.email_status == EmailStatus.RISKY
    assert kim.enrollment.status == Enrollment.Status.STOPPED
    assert not is_suppressed("kim@hotel-seoul.example")  # the address may work again


def test_a_delay_warning_changes_nothing(contact):
    kim = contact("kim@hotel-seoul.example", "<step1.kim@jengu.example>")

    inbound, _ = receive("postfix_dsn_soft_delayed.eml")

    _refresh(kim.prospect, kim.enrollment)
    assert (inbound.label, inbound.details["reason"]) == (Label.BOUNCE_SOFT, "delayed")
    assert kim.enrollment.status == Enrollment.Status.ACTIVE
    assert kim.prospect.email_status != EmailStatus.RISKY


def test_out_of_office_pauses_until_the_morning_after_the_return_date(contact, settings):
    settings.REPLY_OOO_RESUME_DELAY_DAYS = 1
    mike = contact(
        "mike@hotel-miami.example", "<step1.mike@jengu.example>", timezone="America/New_York"
    )

    inbound, _ = receive("ooo_return_date.eml")

    mike.enrollment.refresh_from_db()
    resume = datetime.combine(datetime(2026, 12, 8).date(), time(9), ZoneInfo("America/New_York"))
    assert inbound.label == Label.AUTO_REPLY and not inbound.needs_human
    assert mike.enrollment.status == Enrollment.Status.PAUSED
    assert mike.enrollment.paused_until == resume
    assert mike.enrollment.next_send_at == resume  # the next step moved after the return
    mike.prospect.refresh_from_db()
    assert mike.prospect.stage == Stage.CONTACTED  # a machine's reply is not a reply

    assert enrollments_resume_after_ooo(now=resume - timedelta(minutes=1)) == 0
    assert enrollments_resume_after_ooo(now=resume) == 1
    mike.enrollment.refresh_from_db()
    assert (mike.enrollment.status, mike.enrollment.paused_until) == ("active", None)


def test_out_of_office_without_a_date_pauses_for_the_default_days(contact, settings):
    settings.REPLY_OOO_DEFAULT_PAUSE_DAYS = 7
    settings.REPLY_OOO_RESUME_DELAY_DAYS = 0
    raw = (
        b"From: Mike Ross <mike@hotel-miami.example>\r\nTo: sales@jengu.example\r\n"
        b"Subject: Out of Office\r\nAuto-Submitted: auto-replied\r\n"
        b"In-Reply-To: <step1.mike@jengu.example>\r\n"
        b"Message-ID: <ooo-nodate@hotel-miami.example>\r\n\r\n"
        b"I am out of the office with limited access to e-mail.\r\n"
    )
    mike = contact("mike@hotel-miami.example", "<step1.mike@jengu.example>", timezone="UTC")

    inbound, _ = receive(raw)

    mike.enrollment.refresh_from_db()
    expected_day = inbound.received_at.date() + timedelta(days=7)
    assert mike.enrollment.paused_until.date() == expected_day


def test_an_auto_acknowledgement_leaves_the_sequence_alone(contact):
    nora = contact("nora@hotel-oslo.example", "<step1.nora@jengu.example>")
    receive("auto_ack_no_date.eml")
    nora.enrollment.refresh_from_db()
    assert nora.enrollment.status == Enrollment.Status.ACTIVE


def test_an_operators_pause_is_not_resumed_by_the_out_of_office_job(contact):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    Enrollment.objects.filter(pk=anna.enrollment.pk).update(status=Enrollment.Status.PAUSED)

    assert enrollments_resume_after_ooo(now=timezone.now()) == 0


def test_malformed_mime_fails_with_invalid_data_and_keeps_the_raw_message(contact):
    raw = eml("malformed_not_email.eml")
    inbound = inbound_store(raw=raw, source="webhook", emit_event=False)

    with pytest.raises(InvalidDataError, match="not an e-mail"):
        inbound_process(inbound=inbound)

    inbound.refresh_from_db()
    assert inbound.status == "failed" and "not an e-mail" in inbound.error
    assert bytes(inbound.raw) == raw


def test_a_manual_relabel_applies_its_effects_and_survives_a_reprocess(contact):
    lucy = contact("lucy@hotel-leeds.example", "<step1.lucy@jengu.example>")
    inbound, _ = receive("html_only_not_interested.eml")
    assert inbound.label == Label.NOT_INTERESTED and not inbound.needs_human

    inbound_relabel(inbound=inbound, label=Label.MEETING, corrected_by="user:sam")
    inbound_reprocess(inbound=inbound)

    inbound.refresh_from_db()
    assert (inbound.label, inbound.method, inbound.label_corrected_by) == (
        Label.MEETING,
        "manual",
        "user:sam",
    )
    assert inbound.confidence == 1.0 and inbound.needs_human
    lucy.prospect.refresh_from_db()
    assert lucy.prospect.stage == Stage.REPLIED


def test_a_later_reply_never_moves_a_meeting_back_to_replied(contact):
    anna = contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    type(anna.prospect).objects.filter(pk=anna.prospect.pk).update(stage=Stage.MEETING)

    receive("gmail_interested.eml")

    anna.prospect.refresh_from_db()
    assert anna.prospect.stage == Stage.MEETING
