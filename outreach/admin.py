"""Operator admin for messages and the suppression list (and, by import, the approval
queue, AI calls, inbound mail and inboxes)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jengu.admin_utils import EstimatedCountPaginator
from outreach import approval_admin  # noqa: F401 - registers the approval queue
from outreach.ai import admin as ai_admin  # noqa: F401 - registers AICall and breakers
from outreach.deliverability import admin as deliverability_admin  # noqa: F401 - registers
from outreach.models import EmailMessage, Suppression
from outreach.replies import admin as replies_admin  # noqa: F401 - registers InboundEmailAdmin
from outreach.sending import admin as sending_admin  # noqa: F401 - registers InboxAdmin
from outreach.sending.resolve import message_resolve_uncertain


@admin.register(EmailMessage)
class EmailMessageAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "direction",
        "status",
        "to_email",
        "subject",
        "campaign",
        "step",
        "provider",
    )
    list_filter = ("direction", "status", "provider", "fallback_reason", "campaign")
    list_select_related = ("campaign",)
    raw_id_fields = ("prospect", "enrollment", "inbox")
    search_fields = ("=to_email", "=from_email", "=message_id", "subject")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = (
        "message_id",
        "in_reply_to",
        "idempotency_key",
        "sent_at",
        "created_at",
        "resolved_by",
        "resolved_at",
        "provider",
        "fallback_reason",
        "hold_reason",
    )
    actions = ("mark_uncertain_delivered", "send_uncertain_again")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("body")
        return queryset

    def _resolve_uncertain(self, request: HttpRequest, queryset: QuerySet, delivered: bool) -> None:
        by = f"user:{request.user.get_username()}"
        done = skipped = 0
        for message in queryset.select_related("inbox", "prospect"):
            if message_resolve_uncertain(message=message, delivered=delivered, by=by):
                done += 1
            else:
                skipped += 1
        verb = "marked as sent" if delivered else "queued to send again"
        self.message_user(request, f"{done} uncertain message(s) {verb}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} skipped: only uncertain messages qualify.", messages.WARNING
            )

    @admin.action(description="Mark as sent (it was delivered)", permissions=["change"])
    def mark_uncertain_delivered(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve_uncertain(request, queryset, delivered=True)

    @admin.action(description="Send again (it was not delivered)", permissions=["change"])
    def send_uncertain_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._resolve_uncertain(request, queryset, delivered=False)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("value", "kind", "reason", "source", "created_at")
    list_filter = ("kind", "source")
    search_fields = ("value",)
    show_full_result_count = False
