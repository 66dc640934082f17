"""The approval queue in the admin: read, edit, approve or reject composed e-mails."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from outreach.approval import NotPendingApproval, message_approve, message_reject
from outreach.models import EmailMessage, PendingApproval


def _reviewer(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


@admin.register(PendingApproval)
class PendingApprovalAdmin(admin.ModelAdmin):
    change_form_template = "admin/outreach/pendingapproval/change_form.html"
    list_display = (
        "created_at",
        "to_email",
        "subject",
        "campaign",
        "step",
        "variant",
        "provider",
        "hold_reason",
    )
    list_filter = ("campaign", "provider")
    list_select_related = ("campaign",)
    search_fields = ("=to_email", "subject")
    show_full_result_count = False
    readonly_fields = (
        "to_email",
        "campaign",
        "step",
        "variant",
        "provider",
        "fallback_reason",
        "hold_reason",
    )
    fields = (*readonly_fields, "subject", "body")  # a reviewer edits only the wording
    actions = ("approve_selected", "reject_selected")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(status=EmailMessage.Status.PENDING_APPROVAL)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # reject instead: it records who and why, and stops the sequence

    def _review(self, request: HttpRequest, queryset: QuerySet, act, **kwargs) -> int:
        done = 0
        for message in queryset:
            try:
                act(message=message, by=_reviewer(request), **kwargs)
                done += 1
            except NotPendingApproval as exc:
                self.message_user(request, str(exc), messages.WARNING)
        return done

    @admin.action(description="Approve selected messages (send them)", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = self._review(request, queryset, message_approve)
        self.message_user(request, f"{done} message(s) approved and queued for sending.")

    @admin.action(
        description="Reject selected messages (and stop their sequences)", permissions=["change"]
    )
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        if "confirm" not in request.POST or not reason:
            return TemplateResponse(
                request,
                "admin/outreach/pendingapproval/reject.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Reject messages",
                    "messages_to_reject": queryset,
                    "opts": self.model._meta,
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                    "reason_missing": "confirm" in request.POST,
                },
            )
        done = self._review(request, queryset, message_reject, reason=reason)
        self.message_user(request, f"{done} message(s) rejected.")
        return None

    def response_change(self, request: HttpRequest, obj: PendingApproval) -> HttpResponse:
        """The change form's "Save and approve" / "Reject" buttons act after saving edits."""
        if "_approve" in request.POST or "_reject" in request.POST:
            reason = request.POST.get("reject_reason", "").strip() or "rejected in review"
            try:
                if "_approve" in request.POST:
                    message_approve(message=obj, by=_reviewer(request))
                    self.message_user(request, "Saved and approved: queued for sending.")
                else:
                    message_reject(message=obj, by=_reviewer(request), reason=reason)
                    self.message_user(request, "Rejected; the sequence is stopped.")
            except NotPendingApproval as exc:
                self.message_user(request, str(exc), messages.WARNING)
            return HttpResponseRedirect("../../")
        return super().response_change(request, obj)
