"""The Prospect admin page: one prospect across every app (enrollments, messages,
replies, stage history, enrichment findings) with the operator's actions on it.

It reads crm, enrichment and outreach, so it lives here with the dashboard, above
them all. Actions call services; nothing heavy runs inline.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from crm.enrollments import campaign_enroll
from crm.models import Campaign, Enrollment, Prospect, StageChange
from crm.services import prospects_mark_lost
from enrichment.admin import ProspectEnrichmentAdminMixin
from jengu.admin_utils import (
    CachedValuesFilter,
    EstimatedCountPaginator,
    FastActionCheckboxMixin,
    ReadOnlyInline,
)
from outreach.models import EmailMessage
from outreach.replies.admin import InboundEmailInline
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
