"""The Inbox admin page: connection settings with write-only secrets, and how the
inbox is sending today (warm-up cap, SMTP breaker)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from crm.errors import InvalidInput
from crm.inbox_services import MAIL_HOST_FIELDS, mail_host_check
from crm.models import Inbox
from outreach.sending.rotation import inbox_breaker
from outreach.sending.warmup import inbox_daily_cap, inbox_sent_today


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
        "region",
        "sending_paused",
        "daily_limit",
        "warmup_enabled",
        "warmup_start",
        "sent_today",
        "breaker",
        "bounce_count",
        "last_sent_at",
    )
    list_filter = ("active", "transport", "region", "warmup_enabled", "sending_paused")
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
                    "region",
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
