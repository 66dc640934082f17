"""Operator admin for CRM records. Actions call services; nothing heavy runs inline."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.errors import InvalidInput
from crm.inbox_services import MAIL_HOST_FIELDS, mail_host_check
from crm.models import Campaign, CampaignStep, Enrollment, Inbox, Prospect, StageChange
from crm.services import campaign_enroll, campaign_set_status, prospects_mark_lost
from enrichment.admin import ProspectEnrichmentAdminMixin
from jengu.admin_utils import (
    CachedValuesFilter,
    EstimatedCountPaginator,
    FastActionCheckboxMixin,
    ReadOnlyInline,
)
from outreach.models import EmailMessage
from outreach.replies.admin import InboundEmailInline
from outreach.sending.rotation import inbox_breaker
from outreach.sending.warmup import inbox_daily_cap, inbox_sent_today
from outreach.suppression import prospects_suppress


def actor_name(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


class EnrollmentInline(ReadOnlyInline):
    model = Enrollment
    fields = ("campaign", "status", "current_step", "next_send_at", "variant", "stop_reason")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("campaign")


class MessageInline(ReadOnlyInline):
    model = EmailMessage
    fk_name = "prospect"
    fields = ("created_at", "direction", "step", "subject", "status", "sent_at")
    readonly_fields = fields
    show_change_link = True
    ordering = ("-created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).defer("body")


class StageChangeInline(ReadOnlyInline):
    model = StageChange
    fields = ("created_at", "from_stage", "to_stage", "changed_by", "reason")
    readonly_fields = fields


class CountryFilter(CachedValuesFilter):
    title = "country"
    parameter_name = "country"
    field = "country"


class SourceFilter(CachedValuesFilter):
    title = "source"
    parameter_name = "source"
    field = "source"


class EnrollForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status=Campaign.Status.FINISHED)
    )


@admin.register(Prospect)
class ProspectAdmin(FastActionCheckboxMixin, ProspectEnrichmentAdminMixin, admin.ModelAdmin):
    list_display = (
        "business_name",
        "email",
        "email_status",
        "stage",
        "city",
        "country",
        "score",
        "updated_at",
    )
    list_filter = ("stage", "email_status", CountryFilter, SourceFilter)
    search_fields = ("email", "business_name", "domain")
    search_help_text = "An e-mail address, a domain, or part of the business name."
    readonly_fields = ("stage", "created_at", "updated_at", "enrichment_findings")
    inlines = (EnrollmentInline, MessageInline, InboundEmailInline, StageChangeInline)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    actions = ("enrich_selected", "enroll_in_campaign", "mark_lost", "suppress")
    fieldsets = (
        (None, {"fields": ("business_name", "contact_name", "email", "email_status", "stage")}),
        ("Company", {"fields": ("website", "domain", "phone", "city", "country", "timezone")}),
        ("Classification", {"fields": ("industry", "source", "tags", "score", "notes")}),
        ("Enrichment", {"fields": ("enrichment_findings",)}),
        ("Enrichment data (raw)", {"fields": ("enrichment",), "classes": ("collapse",)}),
        ("Timestamps", {"fields": ("created_at", "updated_at")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("notes", "enrichment")
        return queryset

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """The API's and dashboard's search (`ProspectQuerySet.searched`), plus an exact
        domain: a term like `hotel.example` also finds the prospects on that domain.

        Django's default ORs `icontains` over every field, which scans 100k rows.
        """
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = queryset.searched(term)
        if "@" not in term and "." in term and " " not in term:
            matches |= queryset.filter(domain=term.lower().removeprefix("www."))
        return matches, False

    def has_enroll_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("crm.add_enrollment")

    def has_suppress_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("outreach.add_suppression")

    @admin.action(description="Enroll selected prospects in a campaign…", permissions=["enroll"])
    def enroll_in_campaign(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        form = EnrollForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            campaign = form.cleaned_data["campaign"]
            ids = list(queryset.values_list("pk", flat=True))
            results = campaign_enroll(campaign=campaign, prospect_ids=ids)
            enrolled = sum(1 for result in results if result.status == "enrolled")
            others = len(results) - enrolled
            self.message_user(
                request,
                f"Enrolled {enrolled} in {campaign}; {others} skipped "
                "(already enrolled or not eligible).",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Enroll prospects in a campaign",
            "form": form,
            "queryset": queryset[:20],
            "count": queryset.count(),
            "opts": self.model._meta,
            "action": "enroll_in_campaign",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return render(request, "admin/crm/prospect/enroll.html", context)

    @admin.action(description="Mark selected prospects lost", permissions=["change"])
    def mark_lost(self, request: HttpRequest, queryset: QuerySet) -> None:
        moved = prospects_mark_lost(prospects=queryset, changed_by=actor_name(request))
        self.message_user(request, f"{moved} marked lost.", messages.SUCCESS)

    @admin.action(
        description="Suppress selected prospects (never e-mail again)", permissions=["suppress"]
    )
    def suppress(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = prospects_suppress(
            prospects=queryset, reason="suppressed by operator", source=actor_name(request)
        )
        self.message_user(request, f"{count} addresses suppressed.", messages.SUCCESS)


def write_only_secret() -> forms.CharField:
    return forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Blank: keep the stored value.",
    )


class InboxForm(forms.ModelForm):
    """Secrets are write-only: the form never shows them; blank keeps the stored value.

    No Meta: `InboxAdmin.fieldsets` decide the fields, in one place.
    """

    SECRET_FIELDS = ("smtp_password", "imap_password", "resend_api_key")
    smtp_password = write_only_secret()
    imap_password = write_only_secret()
    resend_api_key = write_only_secret()

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in self.SECRET_FIELDS:
            if not cleaned.get(name) and self.instance.pk:
                cleaned[name] = getattr(self.instance, name)
        for name in MAIL_HOST_FIELDS:
            if cleaned.get(name) and name in self.changed_data:
                try:
                    mail_host_check(field=name, host=cleaned[name])
                except InvalidInput as exc:
                    self.add_error(name, str(exc))
        return cleaned


@admin.register(Inbox)
class InboxAdmin(admin.ModelAdmin):
    form = InboxForm
    list_display = (
        "email",
        "transport",
        "active",
        "sending_paused",
        "daily_limit",
        "warmup_enabled",
        "warmup_start",
        "sent_today",
        "breaker",
        "bounce_count",
        "last_sent_at",
    )
    list_filter = ("active", "transport", "warmup_enabled", "sending_paused")
    search_fields = ("email", "display_name")
    readonly_fields = ("bounce_count", "last_error", "last_error_at", "last_sent_at")

    @admin.display(description="sent today / cap")
    def sent_today(self, inbox: Inbox) -> str:
        return f"{inbox_sent_today(inbox=inbox)} / {inbox_daily_cap(inbox=inbox)}"

    @admin.display(description="SMTP breaker")
    def breaker(self, inbox: Inbox) -> str:
        return inbox_breaker(inbox).state

    fieldsets = (
        (
            None,
            {
                "fields": (
                    "email",
                    "display_name",
                    "transport",
                    "active",
                    "sending_paused",
                    "paused_reason",
                )
            },
        ),
        (
            "SMTP",
            {
                "fields": (
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "smtp_password",
                )
            },
        ),
        ("Resend", {"fields": ("resend_api_key",), "classes": ("collapse",)}),
        (
            "IMAP (replies)",
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_security",
                    "imap_username",
                    "imap_password",
                    "imap_folder",
                    "imap_sent_folder",
                ),
                "classes": ("collapse",),
            },
        ),
        (
            "Volume",
            {
                "fields": (
                    "daily_limit",
                    "warmup_enabled",
                    "warmup_start",
                    "warmup_ramp",
                    "min_gap_seconds",
                )
            },
        ),
        ("Health", {"fields": ("bounce_count", "last_error", "last_error_at", "last_sent_at")}),
    )


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
