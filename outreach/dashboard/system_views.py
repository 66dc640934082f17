"""The operator's pages: queues, workers, breakers, dead letters, traces (Operator role)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from jengu import alerts, health
from jengu.events.selectors import trace_tree
from jengu.redis_helpers import reset_breaker
from outreach.dashboard.access import dashboard_view


def _trace_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"{value[:60]!r} is not a trace id (a UUID)") from None


@dashboard_view("events.view_system")
def system(request: HttpRequest) -> HttpResponse:
    trace_id = request.GET.get("trace", "").strip()
    if trace_id:
        return redirect("crm:trace", trace_id=_trace_id(trace_id))
    queues, workers = health.queue_stats(), health.workers_alive()
    return render(
        request,
        "dashboard/system.html",
        {
            "report": health.health_report(),
            "queues": queues,
            "workers": workers,
            "regions": health.region_stats(queues, workers) if settings.JENGU_REGIONS else [],
            "breakers": health.breaker_states(),
            "dead_letters": health.dead_letters_pending(),
            "alerts": alerts.recent_alerts(limit=30),
        },
    )


@dashboard_view("events.reset_breaker")
@require_POST
def breaker_reset(request: HttpRequest, name: str) -> HttpResponse:
    reset_breaker(name)
    messages.success(request, f"Circuit breaker {name} reset.")
    return redirect("crm:system")


@dashboard_view("events.view_event")
def trace(request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
    tree = trace_tree(trace_id)
    if not tree:
        raise Http404(f"No events for trace {trace_id}")
    return render(request, "dashboard/trace.html", {"trace_id": trace_id, "tree": tree})
