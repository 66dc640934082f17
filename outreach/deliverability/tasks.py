"""Deliverability actors: scheduled and on-demand checks, placement tests, settling
send-time outcomes and promoting A/B winners. Thin: ids in, a service call, a log line.
Declared through outreach/tasks.py (django_dramatiq finds `<app>.tasks` only)."""

from __future__ import annotations

import logging

from django.conf import settings
from dramatiq_crontab import interval

from crm.models import Inbox
from jengu.bus import emit, event_actor
from outreach.deliverability_models import PlacementTest, SeedMailbox

from .ab import winners_auto_promote
from .auth import inbox_auth_check
from .health import inbox_health_evaluate
from .placement import placement_round, placement_send, seed_check, seeds_with_pending_tests
from .send_time_services import send_time_settle

logger = logging.getLogger(__name__)


@interval(seconds=settings.DELIVERABILITY_AUTH_CHECK_HOURS * 3600)
@event_actor("CheckInboxesAuth", queue="scheduled")
def check_inboxes_auth() -> None:
    """Fan out one CheckInboxAuth per active inbox (DNS lookups run in parallel)."""
    for inbox_id in Inbox.objects.filter(active=True).values_list("pk", flat=True):
        emit("CheckInboxAuth", {"inbox_id": inbox_id})


@event_actor("CheckInboxAuth", queue="scheduled")
def check_inbox_auth(inbox_id: int, actor: str = "rule:schedule") -> None:
    """SPF, DKIM, DMARC, MX and MTA-STS of one inbox's domain; sets the first-touch gate."""
    inbox = Inbox.objects.select_related("deliverability").filter(pk=inbox_id).first()
    if inbox is not None:
        row = inbox_auth_check(inbox=inbox, actor=actor)
        logger.info("CheckInboxAuth %s: %s", inbox_id, row.auth_status)


@interval(seconds=settings.DELIVERABILITY_HEALTH_INTERVAL_MINUTES * 60)
@event_actor("EvaluateInboxHealth", queue="scheduled")
def evaluate_inbox_health() -> None:
    """Score every active inbox and apply the bounce and complaint pause rules."""
    for inbox in Inbox.objects.filter(active=True):
        row = inbox_health_evaluate(inbox=inbox)
        logger.info("EvaluateInboxHealth %s: %s", inbox.pk, row.health_score)


@interval(seconds=max(settings.PLACEMENT_TEST_INTERVAL_HOURS, 1) * 3600)
@event_actor("RunPlacementTests", queue="scheduled")
def run_placement_tests() -> None:
    """A placement test from every sending inbox to every seed mailbox (0 hours: off)."""
    if settings.PLACEMENT_TEST_INTERVAL_HOURS > 0:
        logger.info("RunPlacementTests: %d tests", len(placement_round()))


@event_actor("SendPlacementTest", queue="send", max_retries=0)
def send_placement_test(test_id: int) -> None:
    """Send one test e-mail; never retried (a second copy would skew the seed's counts)."""
    test = PlacementTest.objects.select_related("seed").filter(pk=test_id).first()
    if test is not None:
        result = placement_send(test=test)
        logger.info("SendPlacementTest %s: %s %s", test_id, result.status, result.error)


@interval(seconds=settings.PLACEMENT_CHECK_AFTER_MINUTES * 60)
@event_actor("CheckPlacement", queue="scheduled")
def check_placement() -> None:
    """Fan out one CheckSeedMailbox per seed with test e-mails still to find."""
    for seed in seeds_with_pending_tests():
        emit("CheckSeedMailbox", {"seed_id": seed.pk})


@event_actor("CheckSeedMailbox", queue="scheduled")
def check_seed_mailbox(seed_id: int) -> None:
    seed = SeedMailbox.objects.filter(pk=seed_id, active=True).first()
    if seed is not None:
        logger.info("CheckSeedMailbox %s: %s", seed_id, seed_check(seed=seed))


@interval(seconds=3600)
@event_actor("SettleSendTimes", queue="scheduled")
def settle_send_times() -> None:
    """Record first touches' send slots and, after the reply window, their outcomes;
    then promote clear A/B winners where campaigns allow it."""
    logger.info("SettleSendTimes: %s", send_time_settle())
    for promoted in winners_auto_promote():
        logger.info("SettleSendTimes: promoted %s", promoted)
