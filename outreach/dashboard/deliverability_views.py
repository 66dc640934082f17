"""The dashboard's deliverability buttons: check an inbox now, override its gate, run
placement tests, switch send-time optimisation, promote or revert an A/B winner.
Each calls the same service as the admin and the API, and goes back to its page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from crm.errors import InvalidInput
from crm.models import Campaign, CampaignStep, Inbox
from jengu.bus import emit
from outreach.dashboard.access import dashboard_view
from outreach.deliverability import ab, auth
from outreach.deliverability.placement import placement_round
from outreach.deliverability_models import CampaignOptimisation
from outreach.sending.deliverability_log import deliverability_log


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


@dashboard_view("crm.change_inbox")
@require_POST
def inbox_check(request: HttpRequest, inbox_id: int) -> HttpResponse:
    inbox = get_object_or_404(Inbox, pk=inbox_id)
    emit("CheckInboxAuth", {"inbox_id": inbox.pk, "actor": _actor(request)})
    messages.success(request, f"Checking {inbox.email}'s DNS now; reload in a few seconds.")
    return redirect("crm:inboxes")


@dashboard_view("crm.change_inbox")
@require_POST
def inbox_override(request: HttpRequest, inbox_id: int) -> HttpResponse:
    inbox = get_object_or_404(Inbox, pk=inbox_id)
    enabled = request.POST.get("enabled") == "1"
    try:
        auth.inbox_auth_override(
            inbox=inbox, enabled=enabled, actor=_actor(request), note=request.POST.get("note", "")
        )
    except InvalidInput as exc:
        raise BadRequest(str(exc)) from None
    state = "may send first touches despite" if enabled else "is held to"
    messages.success(request, f"{inbox.email} {state} its authentication checks (logged).")
    return redirect("crm:inboxes")


@dashboard_view("crm.change_inbox")
@require_POST
def placement_run(request: HttpRequest) -> HttpResponse:
    started = placement_round()
    messages.success(request, f"{len(started)} placement test e-mails on their way.")
    return redirect("crm:inboxes")


@dashboard_view("crm.change_campaign")
@require_POST
def campaign_optimisation_set(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    try:
        holdout = float(request.POST.get("holdout_share", "0.1"))
    except ValueError:
        raise BadRequest("holdout share must be a number between 0 and 0.5") from None
    if not 0 <= holdout <= 0.5:
        raise BadRequest("holdout share must be between 0 and 0.5")
    changes = {
        "send_time_enabled": request.POST.get("send_time_enabled") == "1",
        "holdout_share": holdout,
        "by_industry": request.POST.get("by_industry") == "1",
        "ab_auto_promote": request.POST.get("ab_auto_promote") == "1",
    }
    CampaignOptimisation.objects.update_or_create(campaign=campaign, defaults=changes)
    detail = f"campaign {campaign.name}: " + ", ".join(f"{k}={v}" for k, v in changes.items())
    deliverability_log(
        kind="settings_changed", actor=_actor(request), campaign=campaign, detail=detail
    )
    messages.success(request, "Optimisation settings saved.")
    return redirect("crm:campaign", campaign_id=campaign.pk)


@dashboard_view("crm.change_campaign")
@require_POST
def variant_promote(request: HttpRequest, campaign_id: int, order: int) -> HttpResponse:
    step = get_object_or_404(CampaignStep, campaign_id=campaign_id, order=order)
    try:
        ab.variant_promote(
            step=step, variant=request.POST.get("variant", ""), actor=_actor(request)
        )
    except InvalidInput as exc:
        raise BadRequest(str(exc)) from None
    messages.success(request, f"Step {order}: new enrollments get the promoted variant.")
    return redirect("crm:campaign", campaign_id=campaign_id)


@dashboard_view("crm.change_campaign")
@require_POST
def variant_revert(request: HttpRequest, campaign_id: int, order: int) -> HttpResponse:
    step = get_object_or_404(CampaignStep, campaign_id=campaign_id, order=order)
    if ab.variant_promotion_revert(step=step, actor=_actor(request)):
        messages.success(request, f"Step {order}: back to the even split.")
    return redirect("crm:campaign", campaign_id=campaign_id)
