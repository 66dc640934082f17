"""What deliverability changes in the sender: DKIM signing, provider caps, refusals that
blame our sender, and the long-window bounce and complaint rules."""

from __future__ import annotations

from datetime import timedelta

import dkim
import pytest
from django.utils import timezone

from crm.models import EmailStatus, Inbox, Stage
from outreach.deliverability_models import DeliverabilityLog, InboxDeliverability
from outreach.models import EmailMessage, Suppression
from outreach.sending.bounces import bounce_protection_check
from outreach.sending.presets import preset_min_gap
from outreach.sending.services import message_send
from outreach.sending.warmup import inbox_daily_cap, send_day, warmup_reserve
from tests.outreach.deliverability_fixtures import (
    SELECTOR,
    dkim_dns,
    good_zone,
    resolver_for,
    signing_key,
)
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
DOMAIN = "jengu.example"


def signing_inbox(sink, **fields) -> Inbox:
    inbox = make_inbox(sink, email=f"sales@{DOMAIN}", **fields)
    InboxDeliverability.objects.create(
        inbox=inbox, dkim_selector=SELECTOR, dkim_sign=True, dkim_private_key=signing_key()
    )
    return inbox


def test_a_signed_e_mail_verifies_against_the_published_key(smtp_sink):
    campaign = make_campaign([signing_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign)

    assert message_send(message=queue_message(enrollment)).status == "sent"

    received = smtp_sink.to(enrollment.prospect.email)[0]
    assert received.message["DKIM-Signature"].startswith("v=1; a=rsa-sha256; c=relaxed/relaxed;")
    assert f"d={DOMAIN}" in received.message["DKIM-Signature"]
    dns = dkim_dns(resolver_for(good_zone(DOMAIN)))
    assert dkim.verify(received.raw, dnsfunc=dns)


def test_a_tampered_signed_e_mail_does_not_verify(smtp_sink):
    campaign = make_campaign([signing_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign)
    message_send(message=queue_message(enrollment))

    raw = smtp_sink.to(enrollment.prospect.email)[0].raw
    tampered = raw.replace(b"A short note", b"A changed note")

    assert not dkim.verify(tampered, dnsfunc=dkim_dns(resolver_for(good_zone(DOMAIN))))


def test_without_signing_the_relay_gets_the_message_unsigned(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign)
    message_send(message=queue_message(enrollment))

    assert smtp_sink.to(enrollment.prospect.email)[0].message["DKIM-Signature"] is None


def test_the_private_key_is_encrypted_at_rest(smtp_sink):
    from django.db import connection

    inbox = signing_inbox(smtp_sink)
    table = InboxDeliverability._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT dkim_private_key FROM {table} WHERE inbox_id = %s", [inbox.pk])  # noqa: S608
        stored = cursor.fetchone()[0]

    assert "PRIVATE KEY" not in stored
    assert InboxDeliverability.objects.get(inbox=inbox).dkim_private_key == signing_key()


def test_presets_are_hard_caps_stricter_settings_stay(smtp_sink):
    loose = make_inbox(smtp_sink, daily_limit=5000, min_gap_seconds=0)
    strict = make_inbox(smtp_sink, daily_limit=40, min_gap_seconds=300)
    for inbox in (loose, strict):
        InboxDeliverability.objects.create(inbox=inbox, provider_preset="google_workspace")
    loose, strict = (
        Inbox.objects.select_related("deliverability").get(pk=i.pk) for i in (loose, strict)
    )

    assert inbox_daily_cap(inbox=loose) == 2000
    assert preset_min_gap(inbox=loose) == 3  # 20 a minute
    assert inbox_daily_cap(inbox=strict) == 40
    assert preset_min_gap(inbox=strict) == 300


def test_the_sender_stops_at_the_presets_cap_whatever_daily_limit_says(smtp_sink):
    inbox = make_inbox(smtp_sink, daily_limit=5000)
    InboxDeliverability.objects.create(inbox=inbox, provider_preset="google_workspace")
    campaign = make_campaign([inbox])
    loaded = Inbox.objects.select_related("deliverability").get(pk=inbox.pk)
    day = send_day()
    taken = sum(warmup_reserve(inbox=loaded, day=day) for _ in range(2001))

    result = message_send(message=queue_message(make_enrollment(campaign)))

    assert taken == 2000
    assert result.status == "held"
    assert result.reason == "no inbox free (at_cap)"


MICROSOFT_REFUSAL = (
    "550 5.7.515 Access denied, sending domain [JENGU.EXAMPLE] doesn't meet the required "
    "authentication level."
)
# Gmail answers on several lines ("550-" continues, "550 " ends).
GMAIL_REFUSAL = (
    "550-5.7.26 This mail has been blocked because the sender is unauthenticated.\r\n"
    "550 5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM."
)


@pytest.mark.parametrize("reply", [MICROSOFT_REFUSAL, GMAIL_REFUSAL])
def test_a_refusal_that_blames_our_authentication_pauses_the_inbox_at_once(smtp_sink, reply):
    blamed = make_inbox(smtp_sink)
    campaign = make_campaign([blamed])
    enrollment = make_enrollment(campaign)
    smtp_sink.rcpt_replies[enrollment.prospect.email] = reply

    result = message_send(message=queue_message(enrollment))

    blamed.refresh_from_db()
    assert result.status == "held"
    assert blamed.paused_reason.startswith("auth_failure at SMTP time")
    prospect = enrollment.prospect
    prospect.refresh_from_db()
    assert prospect.stage != Stage.BOUNCED  # not the recipient's fault
    assert prospect.email_status == EmailStatus.VALID
    assert not Suppression.objects.filter(value=prospect.email).exists()
    message = EmailMessage.objects.get(enrollment=enrollment)
    assert message.status == EmailMessage.Status.QUEUED
    assert DeliverabilityLog.objects.filter(kind="auto_pause", inbox=blamed).exists()


def test_the_message_moves_to_an_inbox_the_receiver_does_not_blame(smtp_sink):
    from tests.fakes.smtp import SmtpSink

    other_sink = SmtpSink().start()
    try:
        blamed, healthy = make_inbox(smtp_sink), make_inbox(other_sink)
        campaign = make_campaign([blamed, healthy])
        enrollment = make_enrollment(campaign)
        smtp_sink.rcpt_replies[enrollment.prospect.email] = MICROSOFT_REFUSAL
        Inbox.objects.filter(pk=healthy.pk).update(last_sent_at=timezone.now())  # blamed first

        result = message_send(message=queue_message(enrollment))

        assert result.status == "sent"
        assert result.inbox_id == healthy.pk
        assert other_sink.count() == 1
    finally:
        other_sink.stop()


def test_an_unknown_user_is_still_a_hard_bounce(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign)
    smtp_sink.bounce.add(enrollment.prospect.email)

    assert message_send(message=queue_message(enrollment)).status == "bounced"


def _sent(inbox, count: int, bounced: int, days_ago: int) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    for n in range(count):
        EmailMessage.objects.create(
            direction=EmailMessage.Direction.OUTBOUND,
            inbox=inbox,
            to_email=f"p{n}-{days_ago}@x.example",
            status=EmailMessage.Status.BOUNCED if n < bounced else EmailMessage.Status.SENT,
            sent_at=at,
        )


def test_bounces_over_two_percent_of_28_days_pause_first_touches(smtp_sink, settings):
    settings.BOUNCE_MIN_SENDS = 20
    inbox = make_inbox(smtp_sink)
    _sent(inbox, 100, bounced=3, days_ago=10)  # 3 % over the window, none in the last 24 h

    paused = bounce_protection_check(inbox=inbox, campaign=None)

    inbox.refresh_from_db()
    assert inbox.sending_paused
    assert paused == [f"inbox {inbox.email}: 3/100 bounced in 28 days"]


def test_old_bounces_outside_the_window_do_not_count(smtp_sink, settings):
    settings.BOUNCE_MIN_SENDS = 20
    inbox = make_inbox(smtp_sink)
    _sent(inbox, 100, bounced=3, days_ago=40)
    _sent(inbox, 100, bounced=1, days_ago=5)

    assert bounce_protection_check(inbox=inbox, campaign=None) == []


def test_the_complaint_threshold_defaults_to_a_tenth_of_a_percent():
    from django.conf import settings

    assert settings.COMPLAINT_RATE_THRESHOLD == 0.001


def test_the_health_score_counts_each_signal_and_its_rules_pause(smtp_sink, settings):
    from outreach.deliverability.health import grade, inbox_health_evaluate

    settings.BOUNCE_MIN_SENDS = 20
    inbox = make_inbox(smtp_sink)
    InboxDeliverability.objects.create(inbox=inbox, auth_status="pass")
    _sent(inbox, 100, bounced=3, days_ago=3)

    row = inbox_health_evaluate(inbox=inbox)

    inbox.refresh_from_db()
    assert row.health_score == 70  # 3 % bounces: -30 (the cap); authentication passes
    assert grade(row.health_score) == "at risk"
    assert row.health_report["reasons"] == ["-30: bounce rate 3.0% (28 days)"]
    assert inbox.sending_paused
    log = DeliverabilityLog.objects.get(kind="auto_pause", inbox=inbox)
    assert log.actor == "rule:health" and "bounced in" in log.detail
