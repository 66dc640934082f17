"""`/api/v1/campaigns/{id}/stats`: a campaign's numbers, counted from its messages.

Mounted on the campaigns' prefix beside `crm.api.campaigns`, which owns the rest of
the resource but cannot count messages (crm sits below outreach).
"""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Router

from crm.models import Campaign
from jengu.api_common import DbId
from outreach.api.schemas import CampaignStatsOut
from outreach.selectors import campaign_stats

router = Router()


@router.get(
    "/{campaign_id}/stats",
    response=CampaignStatsOut,
    summary="A campaign's numbers",
    operation_id="crm_api_campaigns_stats",
)
def stats(request: HttpRequest, campaign_id: Path[DbId]) -> dict:
    return campaign_stats(campaign=get_object_or_404(Campaign, pk=campaign_id))
