"""Admin for the event log and dead letters, with a trace page."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from jengu.admin_utils import EstimatedCountPaginator
from jengu.bus.policies import QUEUES

from . import selectors, services
from .models import DeadLetter, Event


def _pretty_json(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True))


def _trace_link(trace_id: uuid.UUID) -> str:
    url = reverse("admin:events_event_trace", args=[trace_id])
    return format_html('<a href="{}">{}</a>', url, str(trace_id)[:8])


class QueueFilter(admin.SimpleListFilter):
    """Fixed choices: a DISTINCT over a big table would cost more than the page."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [(queue, queue) for queue in QUEUES]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        # Regional variants (`enrich-eu-west`) belong to their stage.
        return queryset.filter(queue__startswith=value) if value else queryset


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "type", "status", "queue", "source", "attempts", "duration_ms")
    list_display_links = ("created_at", "type")
    list_filter = ("status", QueueFilter, "created_at")
    search_fields = ("=event_id", "=trace_id", "=type")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = ("trace", "payload_pretty")
    exclude = ("payload",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Event | None = None) -> bool:
        return False

    @admin.display(description="trace")
    def trace(self, obj: Event) -> str:
        return _trace_link(obj.trace_id)

    @admin.display(description="payload")
    def payload_pretty(self, obj: Event) -> str:
        return _pretty_json(obj.payload)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.trace_view)
        trace = path("trace/<uuid:trace_id>/", view, name="events_event_trace")
        return [trace, *super().get_urls()]

    def trace_view(self, request: HttpRequest, trace_id: uuid.UUID) -> HttpResponse:
        nodes = selectors.trace_flat(trace_id)
        start = nodes[0].event.created_at if nodes else None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Trace {trace_id}",
            "trace_id": trace_id,
            "rows": [
                {"node": node, "offset_ms": (node.event.created_at - start).total_seconds() * 1000}
                for node in nodes
            ],
            "dead_letters": DeadLetter.objects.filter(trace_id=trace_id).defer("traceback"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/events/trace.html", context)


class DiscardForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}))


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = (
        "last_failed_at",
        "event_type",
        "queue",
        "classification",
        "exception_type",
        "attempts",
        "status",
        "requeue_count",
        "trace",
    )
    list_filter = ("status", "classification", QueueFilter, "event_type", "last_failed_at")
    search_fields = ("=event_id", "=trace_id", "exception_type")
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ("requeue", "discard")
    fields = (
        ("event_type", "status"),
        ("queue", "actor"),
        ("classification", "attempts", "requeue_count", "auto_requeued"),
        ("first_failed_at", "last_failed_at"),
        "trace",
        "exception_type",
        "exception_message",
        "traceback_pretty",
        "args_pretty",
        "envelope_pretty",
        "note",
    )
    readonly_fields = tuple(
        name
        for group in fields
        for name in (group if isinstance(group, tuple) else (group,))
        if name != "note"
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeadLetter]:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        # The list never shows tracebacks; do not load them for a page of rows.
        if match and match.url_name == "events_deadletter_changelist":
            return queryset.defer("traceback")
        return queryset

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="trace")
    def trace(self, obj: DeadLetter) -> str:
        return _trace_link(obj.trace_id)

    @admin.display(description="traceback")
    def traceback_pretty(self, obj: DeadLetter) -> str:
        return format_html("<pre>{}</pre>", obj.traceback)

    @admin.display(description="payload")
    def args_pretty(self, obj: DeadLetter) -> str:
        return _pretty_json(obj.args)

    @admin.display(description="envelope")
    def envelope_pretty(self, obj: DeadLetter) -> str:
        return _pretty_json(obj.envelope)

    @admin.action(
        description="Requeue (same event id and trace, fresh retries)", permissions=["change"]
    )
    def requeue(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        # A few thousand rows take seconds; more go to the workers in chunks.
        if queryset[: services.INLINE_REQUEUE_LIMIT + 1].count() > services.INLINE_REQUEUE_LIMIT:
            count = services.dead_letters_requeue_in_background(queryset=queryset)
            message = f"Requeueing {count} dead letters in the background (scheduled queue)."
        else:
            count = services.dead_letters_requeue(queryset=queryset)
            message = f"Requeued {count} dead letter(s)."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Discard (with a note)", permissions=["change"])
    def discard(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> HttpResponse | None:
        form = DiscardForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = services.dead_letters_discard(queryset=queryset, note=form.cleaned_data["note"])
            self.message_user(request, f"Discarded {count} dead letter(s).", messages.SUCCESS)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Discard dead letters",
            "form": form,
            "queryset": queryset[:20],
            "count": queryset.count(),
            "select_across": request.POST.get("select_across", "0"),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/events/discard.html", context)
