"""Send-time optimisation in the database: the batch plans first touches into slots, keeps
a holdout on the plain schedule, and outcomes settle 72 hours after the send."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from crm.models import Enrollment, Prospect
from outreach.deliverability.send_time_services import (
    campaign_send_time_lift,
    send_time_settle,
)
from outreach.deliverability_models import CampaignOptimisation, SendTimeAssignment
from outreach.models import EmailMessage, InboundEmail
from outreach.sending.batch import SLOT_LATER, campaign_batch
from tests.outreach.sending_fixtures import make_campaign, make_enrollment, make_inbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
LISBON = ZoneInfo("Europe/Lisbon")


@pytest.fixture
def campaign(smtp_sink):
    # Tuesdays 10:00-14:00 in the prospect's zone: two slots, midweek:10 and midweek:12.
    campaign = make_campaign(
        [make_inbox(smtp_sink)], window_days=[1], window_start_hour=10, window_end_hour=14
    )
    CampaignOptimisation.objects.create(campaign=campaign, send_time_enabled=True)
    return campaign


def history(campaign, slot: str, sends: int, replies: int) -> None:
    """Settled first touches of earlier prospects in Lisbon, sent in `slot`."""
    prospects = Prospect.objects.bulk_create(
        Prospect(business_name=f"Past {slot} {n}", timezone="Europe/Lisbon") for n in range(sends)
    )
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(prospect=p, campaign=campaign, status=Enrollment.Status.FINISHED)
        for p in prospects
    )
    now = timezone.now()
    SendTimeAssignment.objects.bulk_create(
        SendTimeAssignment(
            enrollment=e,
            campaign=campaign,
            holdout=False,
            zone="Europe/Lisbon",
            planned_slot=slot,
            planned_at=now,
            sent_at=now,
            sent_slot=slot,
            replied=n < replies,
            settled_at=now,
        )
        for n, e in enumerate(enrollments)
    )


def test_first_touches_are_moved_to_the_slot_that_gets_replies(campaign):
    CampaignOptimisation.objects.filter(campaign=campaign).update(holdout_share=0.0)
    history(campaign, "midweek:12", sends=100, replies=50)
    history(campaign, "midweek:10", sends=100, replies=0)
    enrollment = make_enrollment(campaign)

    before = timezone.now()
    report = campaign_batch(campaign=campaign)

    plan = SendTimeAssignment.objects.get(enrollment=enrollment)
    local = plan.planned_at.astimezone(LISBON)
    assert not plan.holdout
    assert plan.planned_slot == "midweek:12"
    assert (local.weekday(), local.hour in (12, 13)) == (1, True)
    enrollment.refresh_from_db()
    if plan.planned_at > before:
        assert report.skipped[SLOT_LATER] == 1
        assert enrollment.next_send_at == plan.planned_at
        assert campaign_batch(campaign=campaign).selected == []  # not due yet, not re-planned
        assert SendTimeAssignment.objects.filter(enrollment=enrollment).count() == 1
    else:  # the test runs inside that very slot
        assert report.selected == [enrollment.pk]


def test_the_holdout_keeps_the_plain_schedule(campaign):
    CampaignOptimisation.objects.filter(campaign=campaign).update(holdout_share=1.0)
    enrollments = [make_enrollment(campaign) for _ in range(3)]

    report = campaign_batch(campaign=campaign)

    plans = SendTimeAssignment.objects.filter(enrollment__in=enrollments)
    assert plans.count() == 3
    assert all(plan.holdout and plan.planned_slot == "" for plan in plans)
    assert report.skipped[SLOT_LATER] == 0


def test_without_optimisation_nothing_is_planned(campaign):
    CampaignOptimisation.objects.filter(campaign=campaign).update(send_time_enabled=False)
    make_enrollment(campaign)

    campaign_batch(campaign=campaign)

    assert not SendTimeAssignment.objects.exists()


def test_a_dry_run_plans_nothing(campaign):
    make_enrollment(campaign)

    campaign_batch(campaign=campaign, dry_run=True)

    assert not SendTimeAssignment.objects.exists()


def first_touch(campaign, *, hours_ago: float, status=EmailMessage.Status.SENT, holdout=False):
    enrollment = make_enrollment(campaign)
    sent_at = timezone.now() - timedelta(hours=hours_ago)
    message = EmailMessage.objects.create(
        direction=EmailMessage.Direction.OUTBOUND,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        campaign=campaign,
        step=1,
        to_email=enrollment.prospect.email,
        status=status,
        sent_at=sent_at,
    )
    SendTimeAssignment.objects.create(
        enrollment=enrollment,
        campaign=campaign,
        holdout=holdout,
        zone="Europe/Lisbon",
        planned_slot="",
        planned_at=sent_at,
    )
    return enrollment, message


def reply(message, label: str, *, after_hours: float) -> None:
    inbound = InboundEmail.objects.create(
        raw=b"", source="imap", prospect=message.prospect, replied_to=message, label=label
    )
    InboundEmail.objects.filter(pk=inbound.pk).update(
        received_at=message.sent_at + timedelta(hours=after_hours)
    )


def test_outcomes_settle_on_human_replies_within_72_hours(campaign):
    human, human_message = first_touch(campaign, hours_ago=10)
    reply(human_message, InboundEmail.Label.QUESTION, after_hours=5)
    auto, auto_message = first_touch(campaign, hours_ago=80)
    reply(auto_message, InboundEmail.Label.AUTO_REPLY, after_hours=1)
    late, late_message = first_touch(campaign, hours_ago=100)
    reply(late_message, InboundEmail.Label.INTERESTED, after_hours=90)
    waiting, _ = first_touch(campaign, hours_ago=10)
    bounced, _ = first_touch(campaign, hours_ago=80, status=EmailMessage.Status.BOUNCED)

    done = send_time_settle()

    outcome = {a.enrollment_id: a for a in SendTimeAssignment.objects.all()}
    assert outcome[human.pk].replied is True  # settled early: the answer is known
    assert outcome[auto.pk].replied is False  # an auto-reply is not a reply
    assert outcome[late.pk].replied is False  # answered, but after 72 h
    assert outcome[waiting.pk].settled_at is None
    assert outcome[bounced.pk].replied is None and outcome[bounced.pk].settled_at is not None
    assert outcome[human.pk].sent_slot.startswith(("mon:", "midweek:", "fri:", "weekend:"))
    assert done == {"sent": 4, "replied": 1, "no_reply": 2, "left_out": 1}


def test_the_lift_says_plainly_when_the_sample_is_too_small(campaign):
    for _ in range(3):
        first_touch(campaign, hours_ago=80)
    first_touch(campaign, hours_ago=80, holdout=True)
    send_time_settle()

    lift = campaign_send_time_lift(campaign=campaign)

    assert (lift.optimised.sends, lift.holdout.sends) == (3, 1)
    assert not lift.enough
    assert "Too few settled first touches" in lift.verdict
