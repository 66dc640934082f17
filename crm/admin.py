"""Operator admin for campaigns, enrollments and stage history. Actions call services.

The Prospect and Inbox pages show other apps' records (messages, replies, enrichment
findings, warm-up, breakers), so they are registered above crm: the Prospect page in
`outreach/dashboard/admin.py`, the Inbox page in `outreach/sending/admin.py`.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from crm.models import Campaign, CampaignStep, Enrollment, StageChange
from crm.services import campaign_set_status
from jengu.admin_utils import EstimatedCountPaginator


class CampaignStepInline(admin.StackedInline):
    model = CampaignStep
    extra = 0
    fields = (("order", "delay_days", "strategy"), "subject_template", "body_template", "variants")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "strategy", "require_approval", "first_steps_paused")
    list_filter = ("status", "require_approval", "first_steps_paused")
    search_fields = ("name",)
    filter_horizontal = ("inboxes",)
    inlines = (CampaignStepInline,)
    actions = ("activate", "pause", "resume_first_steps")
    fieldsets = (
        (None, {"fields": ("name", "status", "strategy", "inboxes", "sender_postal_address")}),
        (
            "Sending window (prospect's local time)",
            {"fields": ("window_start_hour", "window_end_hour", "window_days", "skip_holidays")},
        ),
        ("Review", {"fields": ("require_approval", "approve_follow_ups", "first_steps_paused")}),
    )

    @admin.action(description="Activate / resume selected campaigns", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        for campaign in queryset:
            campaign_set_status(campaign=campaign, status=Campaign.Status.ACTIVE)
        self.message_user(request, f"{queryset.count()} campaigns active.", messages.SUCCESS)

    @admin.action(description="Pause selected campaigns", permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet) -> None:
        for campaign in queryset:
            campaign_set_status(campaign=campaign, status=Campaign.Status.PAUSED)
        self.message_user(request, f"{queryset.count()} campaigns paused.", messages.SUCCESS)

    @admin.action(
        description="Resume first touches paused by bounce protection", permissions=["change"]
    )
    def resume_first_steps(self, request: HttpRequest, queryset: QuerySet) -> None:
        updated = queryset.update(first_steps_paused=False)
        self.message_user(request, f"{updated} campaigns resumed.", messages.SUCCESS)


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("prospect", "campaign", "status", "current_step", "next_send_at", "variant")
    list_filter = ("status", "campaign")
    list_select_related = ("prospect", "campaign")
    raw_id_fields = ("prospect",)
    autocomplete_fields = ("campaign",)
    search_fields = ("=prospect__email", "prospect__business_name")
    paginator = EstimatedCountPaginator
    show_full_result_count = False


@admin.register(StageChange)
class StageChangeAdmin(admin.ModelAdmin):
    list_display = ("prospect", "from_stage", "to_stage", "changed_by", "created_at")
    list_filter = ("to_stage", "from_stage")
    list_select_related = ("prospect",)
    raw_id_fields = ("prospect",)
    search_fields = ("=prospect__email", "changed_by")
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
