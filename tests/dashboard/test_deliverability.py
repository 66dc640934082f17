"""Deliverability on the dashboard: the inboxes page shows checks with fixes, the gate and
placement; operators check, override and run tests; the campaign page shows the
send-time lift and A/B odds, and sales promote and revert winners."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jengu.events.models import Event
from outreach.deliverability.auth import inbox_auth_check
from outreach.deliverability_models import (
    CampaignOptimisation,
    DeliverabilityLog,
    InboxDeliverability,
    PlacementTest,
    SeedMailbox,
    VariantPromotion,
)
from tests.dashboard.conftest import outbound, reply
from tests.factories import CampaignFactory, CampaignStepFactory, EnrollmentFactory, InboxFactory
from tests.outreach.deliverability_fixtures import SELECTOR, good_zone, resolver_for
from tests.roles import role_user

pytestmark = pytest.mark.django_db
DOMAIN = "jengu.example"


@pytest.fixture
def operator(client):
    client.force_login(role_user("Operator", username="ops"))
    return client


@pytest.fixture
def sales(client):
    client.force_login(role_user("Sales", username="sam"))
    return client


@pytest.fixture
def blocked_inbox(settings):
    settings.DELIVERABILITY_MTA_STS_CHECK = False
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(
        good_zone(DOMAIN, **{"": [], f"{SELECTOR}._domainkey.{DOMAIN}": []})
    )
    inbox = InboxFactory(email=f"sales@{DOMAIN}", smtp_host="relay.test")
    InboxDeliverability.objects.create(inbox=inbox, dkim_selector=SELECTOR)
    inbox_auth_check(inbox=inbox)
    return inbox


def test_the_inboxes_page_shows_each_check_its_fix_and_the_gate(sales, blocked_inbox):
    page = sales.get("/inboxes/").content.decode()

    assert 'id="inbox-deliverability"' in page
    assert "blocked: SPF and DKIM both fail alignment" in page
    assert f"Fix: Publish one TXT record at {DOMAIN}" in page
    assert "Check now" not in page  # sales may look, not act
    assert "No seed mailbox yet" in page


def test_an_operator_overrides_the_gate_with_a_logged_reason(operator, blocked_inbox):
    page = operator.get("/inboxes/").content.decode()
    assert "Send anyway" in page

    missing = operator.post(f"/inboxes/{blocked_inbox.pk}/override/", {"enabled": "1"})
    assert missing.status_code == 400
    response = operator.post(
        f"/inboxes/{blocked_inbox.pk}/override/", {"enabled": "1", "note": "relay signs"}
    )

    assert response.status_code == 302
    row = InboxDeliverability.objects.get(inbox=blocked_inbox)
    assert (row.auth_override, row.first_touch_blocked, row.auth_override_by) == (
        True,
        False,
        "user:ops",
    )
    assert DeliverabilityLog.objects.filter(kind="override_set", actor="user:ops").exists()
    assert "override by user:ops" in operator.get("/inboxes/").content.decode()


def test_actions_need_the_inbox_permission(sales, blocked_inbox):
    assert sales.post(f"/inboxes/{blocked_inbox.pk}/check/").status_code == 403
    assert sales.post(f"/inboxes/{blocked_inbox.pk}/override/", {"enabled": "1"}).status_code == 403
    assert sales.post("/inboxes/placement/run/").status_code == 403


def test_check_now_queues_a_check_for_the_operator(operator, blocked_inbox):
    response = operator.post(f"/inboxes/{blocked_inbox.pk}/check/")

    assert response.status_code == 302
    event = Event.objects.get(type="CheckInboxAuth")
    assert event.payload == {"inbox_id": blocked_inbox.pk, "actor": "user:ops"}


def test_placement_rates_are_shown_per_inbox_and_provider(sales, blocked_inbox):
    seed = SeedMailbox.objects.create(
        email="seed@gmail.test", provider="gmail", imap_host="imap.gmail.com", imap_username="s"
    )
    for n, status in enumerate(("inbox", "inbox", "inbox", "spam")):
        PlacementTest.objects.create(inbox=blocked_inbox, seed=seed, token=f"t{n}", status=status)

    page = sales.get("/inboxes/").content.decode()

    assert "<td>gmail</td>" in page
    assert "75%" in page


@pytest.fixture
def ab_campaign():
    campaign = CampaignFactory()
    CampaignStepFactory(campaign=campaign, order=1, variants=[{"name": "B"}])
    for n in range(6):
        enrollment = EnrollmentFactory(campaign=campaign)
        message = outbound(enrollment=enrollment, step=1, variant="B" if n % 2 else "A")
        if n % 2:
            reply(to=message, label="interested")
    return campaign


def test_the_campaign_page_shows_send_time_lift_and_ab_odds(sales, ab_campaign):
    page = sales.get(f"/campaigns/{ab_campaign.pk}/").content.decode()

    assert 'id="send-time"' in page
    assert "Too few settled first touches to tell yet" in page
    assert 'id="ab-winners"' in page
    assert 'data-variant="B"' in page
    assert "Too few sends to call a winner" in page


def test_sales_promote_and_revert_a_variant_and_switch_optimisation(sales, ab_campaign):
    promote = sales.post(f"/campaigns/{ab_campaign.pk}/steps/1/promote/", {"variant": "B"})
    assert promote.status_code == 302
    assert VariantPromotion.objects.get(step__campaign=ab_campaign).promoted_by == "user:sam"
    assert "Revert to the even split" in sales.get(f"/campaigns/{ab_campaign.pk}/").content.decode()

    sales.post(f"/campaigns/{ab_campaign.pk}/steps/1/revert/")
    assert VariantPromotion.objects.get(step__campaign=ab_campaign).reverted_by == "user:sam"

    saved = sales.post(
        f"/campaigns/{ab_campaign.pk}/optimisation/",
        {"send_time_enabled": "1", "holdout_share": "0.2"},
    )
    assert saved.status_code == 302
    settings_row = CampaignOptimisation.objects.get(campaign=ab_campaign)
    assert (settings_row.send_time_enabled, settings_row.holdout_share) == (True, 0.2)
    bad = sales.post(f"/campaigns/{ab_campaign.pk}/optimisation/", {"holdout_share": "2"})
    assert bad.status_code == 400


def test_the_inboxes_page_reads_deliverability_in_a_bounded_number_of_queries(sales, blocked_inbox):
    for _ in range(5):
        InboxFactory()
    with CaptureQueriesContext(connection) as few:
        sales.get("/inboxes/")
    for _ in range(10):
        InboxFactory()
    with CaptureQueriesContext(connection) as many:
        sales.get("/inboxes/")

    assert len(many.captured_queries) == len(few.captured_queries)
