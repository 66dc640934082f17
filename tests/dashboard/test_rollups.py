"""Daily rollups: recomputed from the message tables, per campaign, step and variant."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import DailyStat
from outreach.dashboard.rollups import daily_stats_rollup
from outreach.dashboard.selectors import campaign_breakdown, campaign_overview, daily_series
from tests.dashboard.conftest import outbound, reply
from tests.factories import CampaignFactory, EnrollmentFactory, InboxFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign_with_activity():
    """Four prospects: A sent+interested, B sent+bounced, C (variant B) sent+unsubscribe
    reply, D failed. Plus an auto-reply that must not count as a reply."""
    campaign = CampaignFactory()
    inbox = InboxFactory()
    a, b, c, d = (EnrollmentFactory(campaign=campaign) for _ in range(4))
    sent_a = outbound(enrollment=a, step=1, variant="A", inbox=inbox)
    outbound(enrollment=b, step=1, variant="A", status="bounced", inbox=inbox)
    sent_c = outbound(enrollment=c, step=1, variant="B", inbox=inbox)
    outbound(enrollment=d, step=1, variant="B", status="failed", inbox=inbox)
    reply(to=sent_a, label="interested")
    reply(to=sent_c, label="unsubscribe")
    reply(to=sent_a, label="auto_reply")
    reply(to=sent_c, label="complaint")
    return campaign


def test_rollup_counts_each_outcome_once(campaign_with_activity):
    today = timezone.localdate()

    daily_stats_rollup(day=today)

    totals = {}
    for stat in DailyStat.objects.filter(day=today):
        totals[stat.metric] = totals.get(stat.metric, 0) + stat.value
    assert totals == {
        "sent": 3,
        "bounced": 1,
        "failed": 1,
        "replied": 2,
        "positive": 1,
        "unsubscribed": 1,
    }


def test_rollup_is_idempotent(campaign_with_activity):
    today = timezone.localdate()
    daily_stats_rollup(day=today)
    first = sorted(DailyStat.objects.values_list("metric", "variant", "value"))

    daily_stats_rollup(day=today)

    assert sorted(DailyStat.objects.values_list("metric", "variant", "value")) == first


def test_campaign_breakdown_per_step_and_variant(campaign_with_activity):
    daily_stats_rollup(day=timezone.localdate())

    b = campaign_breakdown(campaign=campaign_with_activity)

    assert (b.total.enrolled, b.total.sent, b.total.replied, b.total.positive) == (4, 3, 2, 1)
    assert b.total.bounce_rate == 33.3
    variants = {row.label: row for row in b.variants}
    assert (variants["Variant A"].sent, variants["Variant A"].positive_rate) == (2, 50.0)
    assert (variants["Variant B"].sent, variants["Variant B"].unsubscribed) == (1, 1)
    assert [row.label for row in b.steps] == ["Step 1"]


def test_campaign_overview_and_daily_series_read_the_rollups(campaign_with_activity):
    today = timezone.localdate()
    daily_stats_rollup(day=today)

    ((campaign, row),) = campaign_overview()
    series = daily_series(days=30, today=today)

    assert campaign == campaign_with_activity
    assert (row.enrolled, row.sent, row.replied, row.bounced) == (4, 3, 2, 1)
    assert series.days[-1] == today and series.days[0] == today - timedelta(days=29)
    assert series.series["sent"][-1] == 3
    assert series.series["replied"][-1] == 2
    assert series.series["bounced"][-1] == 1
    assert sum(series.series["sent"][:-1]) == 0
