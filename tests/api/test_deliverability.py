"""`/api/v1/deliverability/…`: inbox health with what to fix, settings, checks, the override,
placement, send-time lift and A/B winners."""

from __future__ import annotations

import pytest
from django.test import Client

from jengu.apikeys.keys import api_key_create
from outreach.deliverability_models import DeliverabilityLog, InboxDeliverability
from tests.api.conftest import ApiClient
from tests.factories import CampaignFactory, CampaignStepFactory, InboxFactory
from tests.outreach.deliverability_fixtures import SELECTOR, good_zone, resolver_for

pytestmark = pytest.mark.django_db
DOMAIN = "jengu.example"


@pytest.fixture
def inbox(settings):
    settings.DELIVERABILITY_MTA_STS_CHECK = False
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(
        good_zone(DOMAIN, **{"": [], f"{SELECTOR}._domainkey.{DOMAIN}": []})
    )
    return InboxFactory(email=f"sales@{DOMAIN}", smtp_host="relay.test")


def test_a_check_reports_each_finding_with_its_fix_and_blocks_first_touches(api, inbox):
    api.patch(f"/deliverability/inboxes/{inbox.pk}", {"dkim_selector": SELECTOR})

    response = api.post(f"/deliverability/inboxes/{inbox.pk}/check")

    body = response.json()
    assert response.status_code == 200
    assert body["auth_status"] == "fail"
    assert body["first_touch_blocked"] is True
    checks = {f["check"]: f for f in body["auth_report"]["findings"]}
    assert checks["spf"]["status"] == "fail"
    assert checks["spf"]["fix"].startswith(f"Publish one TXT record at {DOMAIN}")
    assert any(line.startswith("dkim: ") for line in body["fixes"])
    assert DeliverabilityLog.objects.filter(kind="auth_checked", actor="api:tests").exists()


def test_settings_are_validated_and_the_private_key_never_comes_back(api, inbox):
    bad = api.patch(f"/deliverability/inboxes/{inbox.pk}", {"dkim_private_key": "nope"})
    assert bad.status_code == 422
    assert "PEM" in str(bad.json())

    response = api.patch(
        f"/deliverability/inboxes/{inbox.pk}",
        {
            "provider_preset": "microsoft_365",
            "dkim_selector": "s1",
            "dkim_sign": True,
            "generate_dkim_key": True,
        },
    )

    body = response.json()
    assert response.status_code == 200
    assert body["provider_preset"] == "microsoft_365"
    assert body["effective_min_gap_seconds"] == max(inbox.min_gap_seconds, 2)
    assert body["dkim_key_set"] is True
    assert body["dkim_dns_record"].startswith("v=DKIM1; k=rsa; p=")
    assert "PRIVATE" not in response.content.decode()
    assert (
        api.patch(f"/deliverability/inboxes/{inbox.pk}", {"provider_preset": "x"}).status_code
        == 422
    )


def test_the_override_needs_the_send_scope_and_a_reason(client: Client, api, inbox):
    api.patch(f"/deliverability/inboxes/{inbox.pk}", {"dkim_selector": SELECTOR})
    api.post(f"/deliverability/inboxes/{inbox.pk}/check")
    writer = ApiClient(
        client, api_key_create(name="writer", scopes=["read", "campaigns:write"]).key
    )

    assert (
        writer.post(
            f"/deliverability/inboxes/{inbox.pk}/override", {"enabled": True, "note": "ok"}
        ).status_code
        == 403
    )
    assert (
        api.post(f"/deliverability/inboxes/{inbox.pk}/override", {"enabled": True}).status_code
        == 422
    )
    response = api.post(
        f"/deliverability/inboxes/{inbox.pk}/override",
        {"enabled": True, "note": "relay signs with its own key"},
    )

    body = response.json()
    assert body["first_touch_blocked"] is False
    assert body["auth_override_by"] == "api:tests"
    assert InboxDeliverability.objects.get(inbox=inbox).auth_override_note.startswith("relay")


def test_reads_need_only_the_read_scope_and_writes_more(read_only_api, inbox):
    assert read_only_api.get("/deliverability/inboxes").status_code == 200
    assert read_only_api.get(f"/deliverability/inboxes/{inbox.pk}").status_code == 200
    assert read_only_api.post(f"/deliverability/inboxes/{inbox.pk}/check").status_code == 403
    assert read_only_api.get("/deliverability/inboxes/999999").status_code == 404


def test_placement_send_time_and_variants_answer_for_a_new_campaign(api):
    campaign = CampaignFactory()
    CampaignStepFactory(campaign=campaign, order=1, variants=[{"name": "B"}])

    placement = api.get("/deliverability/placement", days=7)
    send_time = api.get(f"/deliverability/campaigns/{campaign.pk}/send-time")
    variants = api.get(f"/deliverability/campaigns/{campaign.pk}/variants")

    assert placement.json() == {"days": 7, "rows": [], "weekly": []}
    lift = send_time.json()["lift"]
    assert lift["enough_data"] is False
    assert lift["verdict"].startswith("Too few settled first touches")
    assert [v["name"] for v in variants.json()[0]["variants"]] == ["A", "B"]


def test_optimisation_settings_and_promotion_round_trip(api):
    campaign = CampaignFactory()
    CampaignStepFactory(campaign=campaign, order=1, variants=[{"name": "B"}])

    patched = api.patch(
        f"/deliverability/campaigns/{campaign.pk}/optimisation",
        {"send_time_enabled": True, "holdout_share": 0.2},
    )
    assert patched.json()["send_time_enabled"] is True
    assert patched.json()["holdout_share"] == 0.2
    too_big = api.patch(
        f"/deliverability/campaigns/{campaign.pk}/optimisation", {"holdout_share": 0.9}
    )
    assert too_big.status_code == 422

    promoted = api.post(
        f"/deliverability/campaigns/{campaign.pk}/steps/1/promote", {"variant": "B"}
    )
    assert promoted.json()["promoted"] == "B"
    again = api.post(f"/deliverability/campaigns/{campaign.pk}/steps/1/promote", {"variant": "A"})
    assert again.status_code == 409
    reverted = api.post(f"/deliverability/campaigns/{campaign.pk}/steps/1/revert")
    assert reverted.json()["promoted"] == ""
    assert api.post(f"/deliverability/campaigns/{campaign.pk}/steps/1/revert").status_code == 409
    assert (
        api.post(
            f"/deliverability/campaigns/{campaign.pk}/steps/1/promote", {"variant": "Z"}
        ).status_code
        == 422
    )
