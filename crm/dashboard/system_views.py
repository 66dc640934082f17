"""The operator's pages: queues, workers, breakers, dead letters, traces (staff only)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.dashboard.access import staff_required
from jengu import alerts, health


@staff_required
def system(request: HttpRequest) -> HttpResponse:
    trace_id = request.GET.get("trace", "").strip()
    if trace_id:
        return redirect("crm:trace", trace_id=trace_id)
    return render(
        request,
        "dashboard/system.html",
        {
            "report": health.health_report(),
            "queues": health.queue_stats(),
            "workers": health.workers_alive(),
            "breakers": health.breaker_states(),
            "dead_letters": health.dead_letters_pending(),
            "alerts": alerts.recent_alerts(limit=30),
        },
    )


@staff_required
@require_POST
def breaker_reset(request: HttpRequest, name: str) -> HttpResponse:
    from jengu.redis_helpers import reset_breaker

    reset_breaker(name)
    messages.success(request, f"Circuit breaker {name} reset.")
    return redirect("crm:system")


@staff_required
def trace(request: HttpRequest, trace_id: str) -> HttpResponse:
    from jengu.events.selectors import trace_tree

    tree = trace_tree(trace_id)
    if not tree:
        raise Http404(f"No events for trace {trace_id}")
    return render(request, "dashboard/trace.html", {"trace_id": trace_id, "tree": tree})
