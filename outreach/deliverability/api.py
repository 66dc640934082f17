"""`/api/v1/deliverability/…`: inbox authentication and health, placement tests,
send-time optimisation and A/B winners. Writes need `campaigns:write`; what makes
e-mail go out (overriding the authentication gate, a placement round) needs `send`."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError

from crm.api.prospects import api_actor
from crm.models import Campaign, CampaignStep, Inbox
from jengu.api_common import DbId
from jengu.apikeys.auth import scope_require
from jengu.apikeys.scopes import SEND
from outreach.deliverability_models import CampaignOptimisation, ProviderPreset
from outreach.sending.deliverability_log import deliverability_log
from outreach.sending.dkim import dns_record_for

from . import ab, auth, placement, send_time_services
from .selectors import (
    inbox_summaries,
    inbox_summary,
    placement_by_inbox_and_provider,
    placement_weekly,
)

router = Router()


class InboxDeliverabilityOut(Schema):
    inbox_id: int
    email: str
    provider_preset: str
    effective_daily_cap: int
    effective_min_gap_seconds: int
    dkim_selector: str
    dkim_sign: bool
    dkim_key_set: bool
    dkim_dns_record: str = Field("", description="TXT record to publish for Jengu's key.")
    auth_status: str
    auth_checked_at: datetime | None
    auth_report: dict
    first_touch_blocked: bool
    auth_override: bool
    auth_override_by: str
    auth_override_note: str
    paused_reason: str
    sending_paused: bool
    health_score: int | None
    health_grade: str
    health_report: dict
    health_evaluated_at: datetime | None
    fixes: list[str] = Field(description="What to fix, one line per failing check.")


class InboxDeliverabilityPatch(Schema):
    provider_preset: ProviderPreset | None = None
    dkim_selector: str | None = Field(None, max_length=63, pattern=r"^[A-Za-z0-9._-]*$")
    dkim_sign: bool | None = None
    dkim_private_key: str | None = Field(None, description="PEM; write-only.")
    generate_dkim_key: bool = Field(False, description="Make a new 2048-bit signing key.")


class OverrideIn(Schema):
    enabled: bool
    note: str = Field("", max_length=500)


def _inbox_out(inbox: Inbox) -> dict:
    summary = inbox_summary(inbox)
    out = summary.as_dict()
    key = summary.row.dkim_private_key if summary.row else ""
    out["dkim_dns_record"] = dns_record_for(key) if key else ""
    return out


@router.get("/inboxes", response=list[InboxDeliverabilityOut], summary="Every inbox's health")
def list_inboxes(request: HttpRequest) -> list[dict]:
    return [summary.as_dict() for summary in inbox_summaries()]


@router.get("/inboxes/{inbox_id}", response=InboxDeliverabilityOut, summary="One inbox's health")
def get_inbox(request: HttpRequest, inbox_id: Path[DbId]) -> dict:
    return _inbox_out(get_object_or_404(Inbox, pk=inbox_id))


@router.patch("/inboxes/{inbox_id}", response=InboxDeliverabilityOut, summary="Preset and DKIM")
def patch_inbox(
    request: HttpRequest, inbox_id: Path[DbId], payload: InboxDeliverabilityPatch
) -> dict:
    inbox = get_object_or_404(Inbox, pk=inbox_id)
    data = payload.model_dump(exclude_unset=True, exclude={"generate_dkim_key"})
    auth.inbox_deliverability_update(
        inbox=inbox, data=data, actor=api_actor(request), generate_key=payload.generate_dkim_key
    )
    return _inbox_out(inbox)


@router.post(
    "/inboxes/{inbox_id}/check",
    response=InboxDeliverabilityOut,
    summary="Check SPF, DKIM, DMARC, MX and MTA-STS now",
)
def check_inbox(request: HttpRequest, inbox_id: Path[DbId]) -> dict:
    inbox = get_object_or_404(Inbox, pk=inbox_id)
    auth.inbox_auth_check(inbox=inbox, actor=api_actor(request))
    return _inbox_out(inbox)


@router.post(
    "/inboxes/{inbox_id}/override",
    response=InboxDeliverabilityOut,
    summary="Let first touches go despite failing authentication (or stop that); needs `send`",
)
def override_inbox(request: HttpRequest, inbox_id: Path[DbId], payload: OverrideIn) -> dict:
    scope_require(request, SEND)
    inbox = get_object_or_404(Inbox, pk=inbox_id)
    auth.inbox_auth_override(
        inbox=inbox, enabled=payload.enabled, actor=api_actor(request), note=payload.note
    )
    return _inbox_out(inbox)


class PlacementRowOut(Schema):
    inbox_id: int
    inbox_email: str
    provider: str
    inbox: int
    spam: int
    missing: int
    tests: int
    inbox_rate: float | None


class PlacementWeekOut(Schema):
    week: date
    inbox_id: int
    inbox_email: str
    provider: str
    tests: int
    in_inbox: int
    inbox_rate: float


class PlacementOut(Schema):
    days: int
    rows: list[PlacementRowOut]
    weekly: list[PlacementWeekOut]


class PlacementQuery(Schema):
    days: int = Field(28, ge=1, le=365)


@router.get("/placement", response=PlacementOut, summary="Seed placement per inbox and provider")
def get_placement(request: HttpRequest, query: Query[PlacementQuery]) -> dict:
    return {
        "days": query.days,
        "rows": [row.as_dict() for row in placement_by_inbox_and_provider(days=query.days)],
        "weekly": placement_weekly(days=max(query.days, 84)),
    }


class PlacementRunOut(Schema):
    tests_started: int


@router.post("/placement/run", response=PlacementRunOut, summary="Send placement tests now")
def run_placement(request: HttpRequest) -> dict:
    scope_require(request, SEND)
    return {"tests_started": len(placement.placement_round())}


class OptimisationIn(Schema):
    send_time_enabled: bool | None = None
    holdout_share: float | None = Field(None, ge=0.0, le=0.5)
    by_industry: bool | None = None
    ab_auto_promote: bool | None = None


class LiftOut(Schema):
    optimised_sends: int
    optimised_replies: int
    holdout_sends: int
    holdout_replies: int
    lift: float = Field(description="Reply-rate difference (optimised − holdout), posterior mean.")
    lift_low: float = Field(description="95 % credible interval, lower end.")
    lift_high: float
    probability_better: float
    enough_data: bool
    verdict: str


class SendTimeOut(Schema):
    campaign_id: int
    send_time_enabled: bool
    holdout_share: float
    by_industry: bool
    ab_auto_promote: bool
    lift: LiftOut
    slots: list[dict]


def _optimisation_out(campaign: Campaign) -> dict:
    settings_row = send_time_services.campaign_optimisation(campaign=campaign)
    lift = send_time_services.campaign_send_time_lift(campaign=campaign)
    return {
        "campaign_id": campaign.pk,
        "send_time_enabled": settings_row.send_time_enabled,
        "holdout_share": settings_row.holdout_share,
        "by_industry": settings_row.by_industry,
        "ab_auto_promote": settings_row.ab_auto_promote,
        "lift": {
            "optimised_sends": lift.optimised.sends,
            "optimised_replies": lift.optimised.replies,
            "holdout_sends": lift.holdout.sends,
            "holdout_replies": lift.holdout.replies,
            "lift": lift.mean,
            "lift_low": lift.low,
            "lift_high": lift.high,
            "probability_better": lift.probability_better,
            "enough_data": lift.enough,
            "verdict": lift.verdict,
        },
        "slots": send_time_services.campaign_slot_table(campaign=campaign),
    }


@router.get("/campaigns/{campaign_id}/send-time", response=SendTimeOut, summary="Send-time lift")
def get_send_time(request: HttpRequest, campaign_id: Path[DbId]) -> dict:
    return _optimisation_out(get_object_or_404(Campaign, pk=campaign_id))


@router.patch(
    "/campaigns/{campaign_id}/optimisation", response=SendTimeOut, summary="Optimisation settings"
)
def patch_optimisation(
    request: HttpRequest, campaign_id: Path[DbId], payload: OptimisationIn
) -> dict:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    CampaignOptimisation.objects.update_or_create(campaign=campaign, defaults=changes)
    if changes:
        detail = f"campaign {campaign.name}: " + ", ".join(f"{k}={v}" for k, v in changes.items())
        deliverability_log(
            kind="settings_changed", actor=api_actor(request), campaign=campaign, detail=detail
        )
    return _optimisation_out(campaign)


class VariantOut(Schema):
    name: str
    sends: int
    replies: int
    reply_rate: float | None
    probability_best: float


class StepVariantsOut(Schema):
    step_id: int
    order: int
    variants: list[VariantOut]
    winner: str
    enough: bool
    verdict: str
    promoted: str
    promoted_by: str


@router.get(
    "/campaigns/{campaign_id}/variants",
    response=list[StepVariantsOut],
    summary="A/B: each variant's chance of being best",
)
def get_variants(request: HttpRequest, campaign_id: Path[DbId]) -> list:
    return ab.campaign_ab_results(campaign=get_object_or_404(Campaign, pk=campaign_id))


class PromoteIn(Schema):
    variant: str = Field(min_length=1, max_length=32)


def _step(campaign_id: int, order: int) -> CampaignStep:
    return get_object_or_404(CampaignStep, campaign_id=campaign_id, order=order)


@router.post(
    "/campaigns/{campaign_id}/steps/{order}/promote",
    response=StepVariantsOut,
    summary="Promote a variant: new enrollments get it",
)
def promote_variant(
    request: HttpRequest, campaign_id: Path[DbId], order: Path[int], payload: PromoteIn
) -> ab.StepResult:
    step = _step(campaign_id, order)
    if ab.active_promotion(step=step):
        raise HttpError(409, f"step {order} already has a promoted variant; revert it first")
    ab.variant_promote(step=step, variant=payload.variant, actor=api_actor(request))
    return ab.step_ab_result(step=step)


@router.post(
    "/campaigns/{campaign_id}/steps/{order}/revert",
    response=StepVariantsOut,
    summary="Undo a promotion: back to the even split",
)
def revert_variant(
    request: HttpRequest, campaign_id: Path[DbId], order: Path[int]
) -> ab.StepResult:
    step = _step(campaign_id, order)
    if not ab.variant_promotion_revert(step=step, actor=api_actor(request)):
        raise HttpError(409, f"step {order} has no promoted variant")
    return ab.step_ab_result(step=step)
