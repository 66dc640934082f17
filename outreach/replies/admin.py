"""Admin for inbound mail: filter by label, read the raw message, relabel, reprocess."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from jengu.admin_utils import EstimatedCountPaginator, ReadOnlyInline
from outreach.models import InboundEmail
from outreach.replies.errors import MalformedEmailError
from outreach.replies.services import (
    inbound_mark_handled,
    inbound_relabel,
    inbound_reprocess,
)

RAW_SHOWN_BYTES = 200_000
REPROCESS_MAX = 50


def _user(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _relabel_action(label: str, title: str) -> Callable:
    def action(modeladmin: InboundEmailAdmin, request: HttpRequest, queryset: QuerySet) -> None:
        for inbound in queryset:
            inbound_relabel(inbound=inbound, label=label, corrected_by=_user(request))
        modeladmin.message_user(request, f"{queryset.count()} relabelled {title}.")

    action.__name__ = f"relabel_{label}"
    return admin.action(description=f"Relabel as {title}", permissions=["change"])(action)


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = (
        "received_at",
        "from_email",
        "subject",
        "label",
        "confidence",
        "method",
        "status",
        "needs_human",
        "match_method",
        "prospect",
    )
    list_filter = ("label", "needs_human", "status", "method", "match_method", "source")
    list_select_related = ("prospect",)
    search_fields = ("=from_email", "=message_id", "=provider_message_id", "subject")
    date_hierarchy = "received_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("prospect", "inbox", "email_message", "replied_to")
    fields = (
        ("label", "confidence", "method"),
        ("label_corrected_by", "label_corrected_at"),
        ("status", "needs_human", "processed_at"),
        "error",
        ("from_email", "subject"),
        ("prospect", "replied_to", "email_message", "match_method"),
        ("source", "inbox", "folder", "provider_message_id", "message_id", "received_at"),
        "details",
        "raw_readable",
    )
    readonly_fields = tuple(
        name
        for row in fields
        for name in (row if isinstance(row, tuple) else (row,))
        if name not in ("label", "needs_human")
    )
    actions = [
        "reprocess",
        "mark_handled",
        *(_relabel_action(value, title) for value, title in InboundEmail.Label.choices),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("raw", "details")
        return queryset

    @admin.display(description="raw message")
    def raw_readable(self, obj: InboundEmail) -> str:
        raw = bytes(obj.raw or b"")
        text = raw[:RAW_SHOWN_BYTES].decode("utf-8", errors="replace")
        more = f"\n… {len(raw) - RAW_SHOWN_BYTES} more bytes" if len(raw) > RAW_SHOWN_BYTES else ""
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 40em; overflow: auto">{}{}</pre>',
            text,
            more,
        )

    def save_model(self, request: HttpRequest, obj: InboundEmail, form, change: bool) -> None:
        """A changed label goes through the relabel service, which applies its effects."""
        if change and "label" in form.changed_data:
            inbound_relabel(inbound=obj, label=obj.label, corrected_by=_user(request))
            return
        super().save_model(request, obj, form, change)

    @admin.action(
        description="Reprocess (parse, thread, classify, apply effects again)",
        permissions=["change"],
    )
    def reprocess(self, request: HttpRequest, queryset: QuerySet) -> None:
        if queryset.count() > REPROCESS_MAX:
            self.message_user(
                request,
                f"Select at most {REPROCESS_MAX}; use `manage.py reprocess_inbound --since` "
                "for more.",
                messages.WARNING,
            )
            return
        done, malformed = 0, 0
        for inbound in queryset:
            try:
                inbound_reprocess(inbound=inbound)
                done += 1
            except MalformedEmailError:
                malformed += 1
        self.message_user(request, f"{done} reprocessed, {malformed} malformed (kept as failed).")

    @admin.action(
        description="Mark handled (leaves the needs-a-human list)", permissions=["change"]
    )
    def mark_handled(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = inbound_mark_handled(inbound_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} marked handled.")


class InboundEmailInline(ReadOnlyInline):
    """Replies on the prospect's page: label, how it was decided, and a link to the message."""

    model = InboundEmail
    fk_name = "prospect"
    fields = ("received_at", "subject", "label", "confidence", "method", "needs_human", "status")
    readonly_fields = fields
    show_change_link = True
    ordering = ("-received_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("raw", "details")
