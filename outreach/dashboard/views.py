"""Sales pages. Each view reads through selectors and writes through services."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.models import Campaign, EmailStatus, Prospect, Stage
from jengu import alerts, health, metrics
from outreach.ai.selectors import compose_shares
from outreach.approval import NotPendingApproval, message_approve, message_edit, message_reject
from outreach.dashboard import activity, charts
from outreach.dashboard import selectors as s
from outreach.dashboard.access import dashboard_view
from outreach.dashboard.params import id_list, id_param
from outreach.deliverability.dashboard import campaign_page_context, inbox_page_context
from outreach.models import InboundEmail
from outreach.replies.errors import MalformedEmailError
from outreach.replies.services import inbound_mark_handled, inbound_relabel


def overview_context() -> dict:
    today = timezone.localdate()
    inboxes = activity.inbox_rows()
    week = s.metric_totals(since=today - timedelta(days=6))
    sending = activity.SendingToday(
        sent=sum(row.sent_today for row in inboxes if row.inbox.active),
        cap=sum(row.cap for row in inboxes if row.inbox.active),
        failed_7d=week.get("failed", 0),
        sent_7d=week.get("sent", 0),
    )
    series = s.daily_series(days=30, today=today)
    today_metrics = metrics.day_series([today])[today]
    report = health.health_report()
    prospects = s.prospect_summary()
    queues = report["components"].get("queues", {}).get("queues", {})
    return {
        "health": report,
        "workers": report["components"].get("workers", {}).get("alive", 0),
        "queue_depth": sum(q["depth"] for q in queues.values()),
        "queues": queues,
        "breakers": health.breaker_states(),
        "sending": sending,
        "avg_send_seconds": today_metrics.mean_seconds("email_send_seconds"),
        "ai_providers": activity.ai_provider_stats(),
        "compose_shares": compose_shares(days=7, today=today),
        "enrichment": prospects.enrichment,
        "alerts": alerts.recent_alerts(limit=8),
        "funnel": s.funnel(stage_counts=prospects.stage_counts),
        "chart": charts.line_chart(days=series.days, series=series.series),
        "chart_totals": {name: sum(values) for name, values in series.series.items()},
        "needs_human": activity.replies_needing_human(limit=8),
    }


@dashboard_view("crm.view_prospect")
def overview(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/overview.html", overview_context())


@dashboard_view("crm.view_prospect")
def overview_panels(request: HttpRequest) -> HttpResponse:
    """The overview's panels alone, polled by static/js/live.js every few seconds."""
    return render(request, "dashboard/_overview_panels.html", overview_context())


@dashboard_view("crm.view_prospect")
def prospect_list(request: HttpRequest) -> HttpResponse:
    filters = s.ProspectFilters.from_query(request.GET)
    page = s.prospect_page(filters=filters, before_id=id_param(request.GET, "before"))
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "dashboard/prospects.html",
        {
            "page": page,
            "filters": filters,
            "query": query.urlencode(),
            "stages": Stage.values,
            "email_statuses": EmailStatus.values,
            "countries": s.country_choices(),
            "campaigns": s.campaign_choices(),
        },
    )


@dashboard_view("crm.view_prospect")
def prospect_detail(request: HttpRequest, prospect_id: int) -> HttpResponse:
    prospect = get_object_or_404(Prospect, pk=prospect_id)
    return render(
        request,
        "dashboard/prospect_detail.html",
        {
            "prospect": prospect,
            "timeline": activity.prospect_timeline(prospect=prospect),
            "enrollments": prospect.enrollments.select_related("campaign"),
        },
    )


@dashboard_view("crm.view_campaign")
def campaign_list(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/campaigns.html", {"rows": s.campaign_overview()})


@dashboard_view("crm.view_campaign")
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    breakdown = s.campaign_breakdown(campaign=campaign)
    return render(
        request,
        "dashboard/campaign_detail.html",
        {
            "campaign": campaign,
            "b": breakdown,
            "steps": campaign.steps.all(),
            **campaign_page_context(campaign=campaign),
        },
    )


@dashboard_view("crm.view_inbox")
def inbox_list(request: HttpRequest) -> HttpResponse:
    breakers = {b.name: b.state for b in health.breaker_states()}
    # One breaker per inbox connection, named by outreach.sending.rotation.inbox_breaker.
    rows = [(row, breakers.get(f"smtp:{row.inbox.id}")) for row in activity.inbox_rows()]
    return render(request, "dashboard/inboxes.html", {"rows": rows, **inbox_page_context()})


@dashboard_view("outreach.view_inboundemail")
def reply_list(request: HttpRequest) -> HttpResponse:
    label = request.GET.get("label", "")
    campaign = request.GET.get("campaign", "")
    rows, next_cursor = activity.replies_inbox(
        label=label,
        campaign_id=id_param(request.GET, "campaign"),
        before_id=id_param(request.GET, "before"),
    )
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "dashboard/replies.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "query": query.urlencode(),
            "label": label,
            "campaign": campaign,
            "labels": InboundEmail.Label.choices,
            "campaigns": s.campaign_choices(),
        },
    )


@dashboard_view("outreach.view_inboundemail")
def reply_detail(request: HttpRequest, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(InboundEmail.objects.defer("raw"), pk=reply_id)
    return render(
        request,
        "dashboard/reply_detail.html",
        {
            "reply": reply,
            "thread": activity.thread(reply=reply),
            "labels": InboundEmail.Label.choices,
        },
    )


@dashboard_view("outreach.change_inboundemail")
@require_POST
def reply_relabel(request: HttpRequest, reply_id: int) -> HttpResponse:
    reply = get_object_or_404(InboundEmail, pk=reply_id)
    label = request.POST.get("label", "")
    if label not in InboundEmail.Label.values:
        messages.error(request, f"Unknown label {label!r}.")
    else:
        by = f"user:{request.user.get_username()}"
        try:
            inbound_relabel(inbound=reply, label=label, corrected_by=by)
            messages.success(request, f"Reply relabelled as {label}.")
        except MalformedEmailError as exc:
            # The label is saved; only its effects (stop, suppress…) could not run.
            messages.error(request, f"Label saved; the message itself is unreadable: {exc}")
    if request.POST.get("back") == "list":
        return redirect("crm:replies")
    return redirect("crm:reply_detail", reply_id=reply_id)


@dashboard_view("outreach.view_pendingapproval")
def review_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/review.html", {"rows": activity.review_queue()})


@dashboard_view("outreach.change_pendingapproval")
@require_POST
def review_action(request: HttpRequest) -> HttpResponse:
    """Approve or reject the ticked messages; an edited subject/body is saved first."""
    action = request.POST.get("action", "")
    ids = id_list(request.POST, "ids")
    if action not in ("approve", "reject") or not ids:
        messages.error(request, "Tick at least one e-mail and choose approve or reject.")
        return redirect("crm:review")
    by = f"user:{request.user.get_username()}"
    done, skipped = 0, 0
    for message in activity.pending_messages(ids=ids):
        try:
            _review_one(request, message, action, by)
            done += 1
        except NotPendingApproval:
            skipped += 1  # another reviewer got there first
    verb = "Approved" if action == "approve" else "Rejected"
    messages.success(request, f"{verb} {done} e-mail(s).")
    if skipped or done < len(ids):
        messages.warning(request, f"{len(ids) - done} were already handled by someone else.")
    return redirect("crm:review")


def _review_one(request: HttpRequest, message, action: str, by: str) -> None:
    if action == "reject":
        message_reject(message=message, by=by, reason=request.POST.get("reason", ""))
        return
    subject = request.POST.get(f"subject-{message.id}", message.subject)
    body = request.POST.get(f"body-{message.id}", message.body).replace("\r\n", "\n")
    if (subject, body) != (message.subject, message.body):
        message_edit(message=message, subject=subject, body=body)
    message_approve(message=message, by=by)


@dashboard_view("outreach.change_inboundemail")
@require_POST
def replies_mark_handled(request: HttpRequest) -> HttpResponse:
    ids = id_list(request.POST, "ids")
    handled = inbound_mark_handled(inbound_ids=ids)
    messages.success(request, f"{handled} repl{'y' if handled == 1 else 'ies'} marked handled.")
    return redirect("crm:overview" if request.POST.get("back") == "overview" else "crm:replies")
