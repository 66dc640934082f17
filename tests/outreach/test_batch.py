"""The send batch: which enrollments it claims, which it skips and why, and claim safety."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from crm.models import Campaign, EmailStatus, Enrollment, Stage
from jengu.events.models import Event
from outreach.models import Suppression
from outreach.sending.batch import send_batch_run
from outreach.suppression import suppression_add
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]


def composed() -> list[dict]:
    return list(Event.objects.filter(type="ComposeEmail").values_list("payload", flat=True))


def test_due_enrollments_are_claimed_and_sent_to_compose(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    due = [make_enrollment(campaign) for _ in range(3)]

    report = send_batch_run()

    assert sorted(report.selected) == sorted(e.pk for e in due)
    assert sorted(p["enrollment_id"] for p in composed()) == sorted(e.pk for e in due)
    assert all(p["step"] == 1 for p in composed())
    # Claimed: a second batch right away finds nothing due.
    assert send_batch_run().selected == []


def test_ineligible_enrollments_are_skipped_with_their_reason(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    make_enrollment(campaign, email="x@suppressed.example")
    suppression_add(value="suppressed.example", kind=Suppression.Kind.DOMAIN)
    replied = make_enrollment(campaign, stage=Stage.REPLIED)
    make_enrollment(campaign, email_status=EmailStatus.UNKNOWN)
    make_enrollment(campaign, email_status=EmailStatus.CATCH_ALL)  # sendable
    later = make_enrollment(campaign)
    Enrollment.objects.filter(pk=later.pk).update(next_send_at=timezone.now() + timedelta(days=1))
    in_flight = make_enrollment(campaign)
    queue_message(in_flight)

    report = send_batch_run()

    assert len(report.selected) == 1
    assert report.skipped == {
        "suppressed": 1,
        "prospect replied": 1,
        "e-mail unknown": 1,
        "message in progress": 1,
    }
    replied.refresh_from_db()
    assert replied.status == Enrollment.Status.REPLIED and report.stopped == 2


def test_nothing_is_claimed_outside_the_window(smtp_sink):
    hour = timezone.now().hour
    campaign = make_campaign(
        [make_inbox(smtp_sink)], window_start_hour=(hour + 2) % 24, window_end_hour=(hour + 3) % 24
    )
    make_enrollment(campaign, timezone="UTC")

    report = send_batch_run()

    assert report.selected == [] and report.skipped == {"window: outside_hours": 1}


def test_claims_stop_at_the_inboxes_free_capacity(smtp_sink):
    campaign = make_campaign(
        [make_inbox(smtp_sink, daily_limit=2), make_inbox(smtp_sink, daily_limit=1)]
    )
    for _ in range(5):
        make_enrollment(campaign)

    report = send_batch_run()

    assert len(report.selected) == 3 and report.skipped == {"no inbox capacity today": 2}


def test_first_steps_wait_while_bounce_protection_holds_them(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)], steps=(0, 0), first_steps_paused=True)
    make_enrollment(campaign)
    follow_up = make_enrollment(campaign)
    Enrollment.objects.filter(pk=follow_up.pk).update(current_step=2)

    report = send_batch_run()

    assert report.selected == [follow_up.pk] and report.skipped == {"first steps paused": 1}


def test_paused_campaigns_are_left_alone(smtp_sink):
    make_enrollment(make_campaign([make_inbox(smtp_sink)], status=Campaign.Status.PAUSED))

    assert send_batch_run().selected == []


def test_dry_run_changes_nothing(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign)
    before = Enrollment.objects.get(pk=enrollment.pk).next_send_at

    report = send_batch_run(dry_run=True)

    assert report.selected == [enrollment.pk] and composed() == []
    assert Enrollment.objects.get(pk=enrollment.pk).next_send_at == before


def test_a_lost_claim_is_claimed_again_after_its_lease(smtp_sink, settings):
    campaign = make_campaign([make_inbox(smtp_sink)])
    enrollment = make_enrollment(campaign)
    send_batch_run()
    # Compose never ran (its event was lost): the lease runs out.
    Enrollment.objects.filter(pk=enrollment.pk).update(next_send_at=timezone.now())

    assert send_batch_run().selected == [enrollment.pk]
    assert len(composed()) == 2


def test_the_command_prints_selection_and_reasons(smtp_sink, capsys):
    campaign = make_campaign([make_inbox(smtp_sink)])
    make_enrollment(campaign)
    make_enrollment(campaign, email_status=EmailStatus.RISKY)

    call_command("send_batch", "--campaign", str(campaign.pk), "--dry-run")

    out = capsys.readouterr().out
    assert "1 enrollment(s) would be queued" in out and "e-mail risky" in out


@pytest.mark.django_db(transaction=True)
def test_two_batches_at_once_never_claim_the_same_enrollment(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)])
    for _ in range(40):
        make_enrollment(campaign)
    reports = []
    start = threading.Barrier(2)

    def run():
        start.wait()
        try:
            reports.append(send_batch_run())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    first, second = (set(r.selected) for r in reports)
    assert not first & second and len(first | second) == 40
    assert len(composed()) == 40
