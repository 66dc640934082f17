"""Operator admin for deliverability: inbox authentication and health (with the override),
seed mailboxes, placement tests, the deliverability log, optimisation settings and
A/B promotions. Every change goes through the services, so it is logged."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from crm.errors import InvalidInput
from crm.inbox_services import mail_host_check
from jengu.admin_utils import EstimatedCountPaginator
from jengu.bus import emit
from outreach.deliverability_models import (
    CampaignOptimisation,
    DeliverabilityLog,
    InboxDeliverability,
    PlacementTest,
    SeedMailbox,
    VariantPromotion,
)
from outreach.sending import dkim
from outreach.sending.admin import write_only_secret
from outreach.sending.deliverability_log import deliverability_log

from . import ab, auth
from .placement import placement_round


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


class InboxDeliverabilityForm(forms.ModelForm):
    dkim_private_key = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="PEM, write-only (never shown). Blank: keep the stored key.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["dkim_private_key"] = ""  # a textarea would print the stored key

    def clean_dkim_private_key(self) -> str:
        value = self.cleaned_data.get("dkim_private_key", "").strip()
        if not value:
            return self.instance.dkim_private_key if self.instance.pk else ""
        try:
            dkim.private_key_check(value)
        except dkim.DkimKeyError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("auth_override") and not cleaned.get("auth_override_note", "").strip():
            self.add_error("auth_override_note", "Say why the checks may be ignored (logged).")
        if cleaned.get("dkim_sign") and not (
            cleaned.get("dkim_private_key") and cleaned.get("dkim_selector")
        ):
            self.add_error("dkim_sign", "Signing needs a selector and a private key.")
        return cleaned


@admin.register(InboxDeliverability)
class InboxDeliverabilityAdmin(admin.ModelAdmin):
    form = InboxDeliverabilityForm
    list_display = (
        "inbox",
        "provider_preset",
        "auth_status",
        "first_touch_blocked",
        "auth_override",
        "health_score",
        "auth_checked_at",
    )
    list_filter = ("auth_status", "first_touch_blocked", "auth_override", "provider_preset")
    list_select_related = ("inbox",)
    search_fields = ("inbox__email",)
    raw_id_fields = ("inbox",)
    actions = ("check_now", "generate_key")
    readonly_fields = (
        "report",
        "auth_status",
        "auth_checked_at",
        "first_touch_blocked",
        "auth_override_by",
        "auth_override_at",
        "health_score",
        "health_evaluated_at",
    )
    fieldsets = (
        (None, {"fields": ("inbox", "provider_preset")}),
        ("DKIM", {"fields": ("dkim_selector", "dkim_sign", "dkim_private_key")}),
        (
            "Authentication",
            {
                "fields": (
                    "report",
                    "auth_status",
                    "auth_checked_at",
                    "first_touch_blocked",
                    "auth_override",
                    "auth_override_note",
                    "auth_override_by",
                    "auth_override_at",
                )
            },
        ),
        ("Health", {"fields": ("health_score", "health_evaluated_at")}),
    )

    @admin.display(description="checks and what to fix")
    def report(self, row: InboxDeliverability) -> SafeString:
        return render_to_string("admin/outreach/inbox_auth_report.html", {"row": row})

    def save_model(self, request: HttpRequest, obj: InboxDeliverability, form, change) -> None:
        override_changed = "auth_override" in form.changed_data
        note = obj.auth_override_note
        super().save_model(request, obj, form, change)
        if override_changed:
            auth.inbox_auth_override(
                inbox=obj.inbox, enabled=obj.auth_override, actor=_actor(request), note=note
            )
        settings_changed = [f for f in auth.SETTINGS_FIELDS if f in form.changed_data]
        if settings_changed:
            deliverability_log(
                kind=DeliverabilityLog.Kind.SETTINGS_CHANGED,
                actor=_actor(request),
                inbox=obj.inbox,
                detail=f"{obj.inbox.email}: {', '.join(settings_changed)} changed",
            )

    @admin.action(
        description="Check authentication now (SPF, DKIM, DMARC, MX, MTA-STS)",
        permissions=["change"],
    )
    def check_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for row in queryset:
            emit("CheckInboxAuth", {"inbox_id": row.inbox_id, "actor": _actor(request)})
        self.message_user(request, f"{queryset.count()} checks queued; reload in a few seconds.")

    @admin.action(description="Generate a new 2048-bit DKIM signing key", permissions=["change"])
    def generate_key(self, request: HttpRequest, queryset: QuerySet) -> None:
        for row in queryset.select_related("inbox"):
            auth.inbox_deliverability_update(
                inbox=row.inbox, data={}, actor=_actor(request), generate_key=True
            )
        self.message_user(
            request,
            "New keys made: publish each one's DNS record (shown on its page), then turn "
            "signing on and check again.",
            messages.WARNING,
        )


class SeedMailboxForm(forms.ModelForm):
    imap_password = write_only_secret()

    def clean_imap_host(self) -> str:
        host = self.cleaned_data.get("imap_host", "")
        if host and "imap_host" in self.changed_data:
            try:  # the workers connect to it: the same guard as inboxes' mail hosts
                mail_host_check(field="imap_host", host=host)
            except InvalidInput as exc:
                raise forms.ValidationError(str(exc)) from None
        return host

    def clean_imap_password(self) -> str:
        value = self.cleaned_data.get("imap_password", "")
        return value or (self.instance.imap_password if self.instance.pk else "")


@admin.register(SeedMailbox)
class SeedMailboxAdmin(admin.ModelAdmin):
    form = SeedMailboxForm
    list_display = ("email", "provider", "active", "last_checked_at", "last_error")
    list_filter = ("provider", "active")
    search_fields = ("email",)
    actions = ("run_tests",)
    fields = (
        "email",
        "provider",
        "active",
        ("imap_host", "imap_port", "imap_security"),
        "imap_username",
        "imap_password",
        "inbox_folders",
        "spam_folders",
        "last_checked_at",
        "last_error",
    )
    readonly_fields = ("last_checked_at", "last_error")

    @admin.action(description="Send placement tests from every inbox now", permissions=["change"])
    def run_tests(self, request: HttpRequest, queryset: QuerySet) -> None:
        self.message_user(request, f"{len(placement_round())} placement test e-mails queued.")


class RecordAdmin(admin.ModelAdmin):
    """Rows written by the system only: listed and opened, never added or edited here."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(PlacementTest)
class PlacementTestAdmin(RecordAdmin):
    list_display = ("sent_at", "inbox", "seed", "status", "folder", "checked_at", "error")
    list_filter = ("status", "seed__provider")
    list_select_related = ("inbox", "seed")
    search_fields = ("=inbox__email", "=seed__email", "=token")


@admin.register(DeliverabilityLog)
class DeliverabilityLogAdmin(RecordAdmin):
    list_display = ("created_at", "kind", "actor", "inbox", "campaign", "detail")
    list_filter = ("kind",)
    list_select_related = ("inbox", "campaign")
    search_fields = ("actor", "detail")


@admin.register(CampaignOptimisation)
class CampaignOptimisationAdmin(admin.ModelAdmin):
    list_display = ("campaign", "send_time_enabled", "holdout_share", "by_industry")
    list_display += ("ab_auto_promote",)
    autocomplete_fields = ("campaign",)


@admin.register(VariantPromotion)
class VariantPromotionAdmin(RecordAdmin):
    list_display = ("step", "variant", "probability_best", "automatic", "promoted_by")
    list_display += ("promoted_at", "reverted_by", "reverted_at")
    list_select_related = ("step__campaign",)
    # Promote from the campaign page or the API: they show the odds.
    actions = ("revert",)

    def has_revert_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("outreach.change_variantpromotion")

    @admin.action(
        description="Revert selected promotions (back to the even split)", permissions=["revert"]
    )
    def revert(self, request: HttpRequest, queryset: QuerySet) -> None:
        reverted = sum(
            ab.variant_promotion_revert(step=promotion.step, actor=_actor(request))
            for promotion in queryset.filter(reverted_at__isnull=True).select_related("step")
        )
        self.message_user(request, f"{reverted} promotions reverted.")
