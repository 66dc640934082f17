"""Operator admin for messages and the suppression list."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from jengu.admin_utils import EstimatedCountPaginator
from outreach import approval_admin  # noqa: F401 - registers the approval queue
from outreach.ai import admin as ai_admin  # noqa: F401 - registers AICall and breakers
from outreach.models import EmailMessage, Suppression
from outreach.replies import admin as replies_admin  # noqa: F401 - registers InboundEmailAdmin


@admin.register(EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "direction", "status", "to_email", "subject", "campaign", "step")
    list_filter = ("direction", "status", "campaign")
    list_select_related = ("campaign",)
    raw_id_fields = ("prospect", "enrollment", "inbox")
    search_fields = ("=to_email", "=from_email", "=message_id", "subject")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = ("message_id", "in_reply_to", "idempotency_key", "sent_at", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("body")
        return queryset


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "reason", "source", "created_at")
    list_filter = ("kind", "source")
    search_fields = ("value",)
    show_full_result_count = False
