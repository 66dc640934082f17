"""Campaigns: create with steps, status changes, enroll, stats."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.models import Campaign, Enrollment
from outreach.models import EmailMessage
from tests.api.conftest import ApiClient
from tests.factories import (
    CampaignFactory,
    CampaignStepFactory,
    EnrollmentFactory,
    InboxFactory,
    ProspectFactory,
)

pytestmark = pytest.mark.django_db

STEPS = [
    {"delay_days": 0, "subject_template": "Hello {{ business_name }}", "body_template": "Hi"},
    {"delay_days": 3, "subject_template": "Re: hello", "body_template": "Following up"},
]


def test_create_with_two_steps_and_an_inbox(api: ApiClient) -> None:
    inbox = InboxFactory()
    response = api.post(
        "/campaigns",
        {"name": "Lisbon hotels", "inbox_ids": [inbox.pk], "window_days": [0, 2], "steps": STEPS},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["inbox_ids"] == [inbox.pk]
    assert [(s["order"], s["delay_days"]) for s in body["steps"]] == [(1, 0), (2, 3)]
    assert body["window_days"] == [0, 2]
    assert {"strategy", "window_start_hour", "window_end_hour", "skip_holidays"} <= set(body)
    assert api.get(f"/campaigns/{body['id']}").json() == body
    assert [item["id"] for item in api.get("/campaigns").json()["items"]] == [body["id"]]


def test_duplicate_name_is_a_409(api: ApiClient) -> None:
    CampaignFactory(name="Spring")
    response = api.post("/campaigns", {"name": "Spring"})
    assert response.status_code == 409
    assert "Spring" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "A", "inbox_ids": [999999]}, "inbox_ids"),
        ({"name": "A", "window_start_hour": 10, "window_end_hour": 10}, "window_end_hour"),
        ({"name": "A", "window_end_hour": 25}, "window_end_hour"),
        ({"name": "A", "window_days": [7]}, "window_days"),
        ({"name": "A", "steps": [STEPS[0], {**STEPS[1], "order": 1}]}, "steps"),
        ({"name": "A", "steps": [{"subject_template": "no body"}]}, "body_template"),
        ({"name": "A", "status": "running"}, "status"),
    ],
)
def test_invalid_campaigns_get_422_naming_the_field(api: ApiClient, body, field) -> None:
    response = api.post("/campaigns", body)
    assert response.status_code == 422, response.content
    assert any(field in error["loc"] for error in response.json()["detail"])
    assert not Campaign.objects.exists()


def test_activate_and_pause(api: ApiClient) -> None:
    campaign = CampaignFactory(status="draft")
    refused = api.patch(f"/campaigns/{campaign.pk}", {"status": "active"})
    assert refused.status_code == 422
    assert "at least one step" in refused.json()["detail"][0]["msg"]
    CampaignStepFactory(campaign=campaign, order=1)
    campaign.inboxes.add(InboxFactory())
    assert api.patch(f"/campaigns/{campaign.pk}", {"status": "active"}).json()["status"] == "active"
    assert api.patch(f"/campaigns/{campaign.pk}", {"status": "paused"}).json()["status"] == "paused"


def test_patch_replaces_steps_and_keeps_other_fields(api: ApiClient) -> None:
    campaign = CampaignFactory(window_start_hour=8)
    CampaignStepFactory(campaign=campaign, order=1)
    response = api.patch(f"/campaigns/{campaign.pk}", {"steps": STEPS, "require_approval": True})
    body = response.json()
    assert len(body["steps"]) == 2 and body["require_approval"] is True
    assert body["window_start_hour"] == 8


def test_enroll_reports_each_id(api: ApiClient) -> None:
    campaign = CampaignFactory()
    fresh, enrolled, gone = ProspectFactory(), ProspectFactory(), ProspectFactory(stage="bounced")
    EnrollmentFactory(campaign=campaign, prospect=enrolled)
    response = api.post(
        f"/campaigns/{campaign.pk}/enroll", {"prospect_ids": [fresh.pk, enrolled.pk, gone.pk, 9999]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["enrolled"] == 1
    assert [r["status"] for r in body["results"]] == [
        "enrolled", "already_enrolled", "not_eligible", "not_found",
    ]  # fmt: skip
    assert Enrollment.objects.filter(campaign=campaign).count() == 2


def test_enroll_in_unknown_campaign_is_404(api: ApiClient) -> None:
    assert api.post("/campaigns/999999/enroll", {"prospect_ids": [1]}).status_code == 404


def test_stats_count_enrollments_and_messages(api: ApiClient) -> None:
    campaign = CampaignFactory()
    replied = EnrollmentFactory(
        campaign=campaign, prospect=ProspectFactory(stage="replied"), last_sent_at=timezone.now()
    )
    EnrollmentFactory(campaign=campaign, prospect=ProspectFactory(stage="unsubscribed"))
    contacted = EnrollmentFactory(campaign=campaign, last_sent_at=timezone.now())
    for enrollment, status in ((replied, "sent"), (contacted, "bounced")):
        EmailMessage.objects.create(
            direction="outbound",
            prospect=enrollment.prospect,
            campaign=campaign,
            enrollment=enrollment,
            status=status,
        )
    stats = api.get(f"/campaigns/{campaign.pk}/stats").json()
    assert stats["enrolled"] == 3
    assert stats["sent"] == 2
    assert stats["replied"] == 1
    assert stats["bounced"] == 1
    assert stats["unsubscribed"] == 1
    assert stats["reply_rate"] == 0.5
