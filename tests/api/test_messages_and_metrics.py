"""Messages with their thread, and the overview numbers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from outreach.models import EmailMessage
from tests.api.conftest import ApiClient
from tests.factories import CampaignFactory, ProspectFactory

pytestmark = pytest.mark.django_db


def _message(**fields) -> EmailMessage:
    defaults = {"direction": "outbound", "status": "sent", "subject": "Hello"}
    return EmailMessage.objects.create(**{**defaults, **fields})


def test_list_filters_by_prospect_campaign_and_direction(api: ApiClient) -> None:
    prospect, campaign = ProspectFactory(), CampaignFactory()
    out = _message(prospect=prospect, campaign=campaign, step=1, sent_at=timezone.now())
    reply = _message(prospect=prospect, direction="inbound", status="received")
    _message(prospect=ProspectFactory())

    def ids(**params) -> list[int]:
        return [item["id"] for item in api.get("/messages", **params).json()["items"]]

    assert ids(prospect=prospect.pk) == [reply.pk, out.pk]
    assert ids(campaign=campaign.pk) == [out.pk]
    assert ids(prospect=prospect.pk, direction="inbound") == [reply.pk]
    item = api.get("/messages", campaign=campaign.pk).json()["items"][0]
    assert {"prospect_id", "campaign_id", "step", "inbox_id", "message_id", "sent_at"} <= set(item)


def test_get_returns_the_thread_oldest_first(api: ApiClient) -> None:
    prospect = ProspectFactory()
    first = _message(prospect=prospect)
    reply = _message(prospect=prospect, direction="inbound", status="received")
    _message(prospect=ProspectFactory())
    body = api.get(f"/messages/{reply.pk}").json()
    assert body["id"] == reply.pk
    assert [m["id"] for m in body["thread"]] == [first.pk, reply.pk]


def test_bad_direction_is_a_422(api: ApiClient) -> None:
    assert api.get("/messages", direction="sideways").status_code == 422


def test_metrics_summary(api: ApiClient) -> None:
    ProspectFactory(stage="ready")
    ProspectFactory(stage="ready")
    ProspectFactory(stage="won")
    CampaignFactory(status="active")
    _message(prospect=ProspectFactory(), sent_at=timezone.now())
    _message(direction="inbound", status="received")
    summary = api.get("/metrics/summary").json()
    assert summary["prospects_total"] == 4
    assert summary["prospects_by_stage"]["ready"] == 2
    assert summary["prospects_by_stage"]["won"] == 1
    assert summary["campaigns_by_status"]["active"] == 1
    assert summary["sent_today"] == 1
    assert summary["replies_today"] == 1
