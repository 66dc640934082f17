"""`/api/v1/campaigns`: list, create with steps, get, patch (incl. status), enroll.

A campaign's numbers (`/campaigns/{id}/stats`) count its messages: `outreach.api.stats`.
"""

from __future__ import annotations

from django.db import IntegrityError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Status
from ninja.errors import HttpError

from crm.api.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    EnrollIn,
    EnrollOut,
)
from crm.campaign_services import campaign_create, campaign_update
from crm.enrollments import campaign_enroll
from crm.models import Campaign
from jengu.api_common import DbId, PageQuery, keyset_page
from jengu.apikeys.auth import ApiKeyAuth, scope_require
from jengu.apikeys.scopes import SEND

router = Router()


def _campaigns():
    return Campaign.objects.prefetch_related("inboxes", "steps")


def _name_taken(name: str) -> HttpError:
    return HttpError(409, f"a campaign named {name!r} already exists")


@router.get("", response=CampaignPage, summary="List campaigns, newest first")
def list_campaigns(request: HttpRequest, page: Query[PageQuery]) -> dict:
    return keyset_page(_campaigns(), page=page)


def _activation_needs_send(request: HttpRequest, status: str | None) -> None:
    # Activating starts sending: the campaigns:write scope alone may not do it.
    if status == Campaign.Status.ACTIVE:
        scope_require(request, SEND)


@router.post("", response={201: CampaignOut}, summary="Create a campaign with its steps")
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Campaign]:
    _activation_needs_send(request, payload.status)
    try:
        campaign = campaign_create(data=payload.model_dump())
    except IntegrityError:
        raise _name_taken(payload.name) from None
    return Status(201, _campaigns().get(pk=campaign.pk))


@router.get("/{campaign_id}", response=CampaignOut, summary="Get a campaign")
def get_campaign(request: HttpRequest, campaign_id: Path[DbId]) -> Campaign:
    return get_object_or_404(_campaigns(), pk=campaign_id)


@router.patch(
    "/{campaign_id}",
    response=CampaignOut,
    summary="Change a campaign",
    description="`status`: `active` starts sending, `paused` holds it. "
    "`steps` replaces every step; `inbox_ids` replaces every inbox.",
)
def patch_campaign(
    request: HttpRequest, campaign_id: Path[DbId], payload: CampaignPatch
) -> Campaign:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    data = payload.model_dump(exclude_unset=True)
    _activation_needs_send(request, data.get("status"))
    try:
        campaign_update(campaign=campaign, data=data)
    except IntegrityError:
        raise _name_taken(data.get("name", "")) from None
    return _campaigns().get(pk=campaign.pk)


@router.post(
    "/{campaign_id}/enroll",
    response=EnrollOut,
    summary="Enroll prospects",
    description="Needs the `send` scope: enrolled prospects get the campaign's e-mails.",
    auth=ApiKeyAuth(SEND),
)
def enroll(request: HttpRequest, campaign_id: Path[DbId], payload: EnrollIn) -> dict:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    results = campaign_enroll(campaign=campaign, prospect_ids=payload.prospect_ids)
    return {
        "enrolled": sum(1 for result in results if result.status == "enrolled"),
        "results": results,
    }
