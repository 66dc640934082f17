"""An operator and a salesperson working deliverability in a real browser."""

import pytest

from outreach.deliverability.auth import inbox_auth_check
from outreach.deliverability_models import InboxDeliverability, VariantPromotion
from tests.dashboard.conftest import outbound, reply
from tests.factories import CampaignFactory, CampaignStepFactory, EnrollmentFactory, InboxFactory
from tests.outreach.deliverability_fixtures import SELECTOR, good_zone, resolver_for

pytestmark = pytest.mark.slow
DOMAIN = "jengu.example"


def test_an_operator_reads_the_fixes_and_lets_a_blocked_inbox_send(
    page, live_server, settings, tmp_path
):
    settings.DELIVERABILITY_MTA_STS_CHECK = False
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(
        good_zone(DOMAIN, **{"": [], f"{SELECTOR}._domainkey.{DOMAIN}": []})
    )
    inbox = InboxFactory(email=f"sales@{DOMAIN}", smtp_host="relay.test")
    InboxDeliverability.objects.create(inbox=inbox, dkim_selector=SELECTOR)
    inbox_auth_check(inbox=inbox)

    page.goto(live_server.url + "/inboxes/")
    page.screenshot(path=tmp_path / "inboxes.png", full_page=True)

    row = page.locator(f"#inbox-deliverability tr[data-inbox='{inbox.pk}']")
    assert "blocked: SPF and DKIM both fail alignment" in row.inner_text()
    assert f"Publish one TXT record at {DOMAIN}" in row.inner_text()
    row.locator("input[name=note]").fill("our relay signs with its own domain")
    row.locator("text=Send anyway").click()
    page.wait_for_url("**/inboxes/")
    assert "override by user:ops" in page.locator("#inbox-deliverability").inner_text()
    assert InboxDeliverability.objects.get(inbox=inbox).auth_override


def test_a_salesperson_sees_the_odds_and_promotes_a_variant(page, live_server, tmp_path):
    campaign = CampaignFactory()
    CampaignStepFactory(campaign=campaign, order=1, variants=[{"name": "B"}])
    for n in range(8):
        message = outbound(
            enrollment=EnrollmentFactory(campaign=campaign), step=1, variant="B" if n % 2 else "A"
        )
        if n % 2:
            reply(to=message, label="interested")

    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.screenshot(path=tmp_path / "campaign.png", full_page=True)

    assert "Too few settled first touches" in page.inner_text("#send-time")
    page.locator("#ab-winners tr[data-variant=B] button").click()
    page.wait_for_url(f"**/campaigns/{campaign.pk}/")
    assert "promoted" in page.inner_text("#ab-winners tr[data-variant=B]")
    assert VariantPromotion.objects.get(step__campaign=campaign).variant == "B"
