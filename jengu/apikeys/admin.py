"""Admin for API keys (create shows the key once; revoke action) and webhooks."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jengu.admin_utils import EstimatedCountPaginator
from jengu.apikeys.keys import api_key_create, api_keys_revoke
from jengu.apikeys.models import ApiKey, WebhookDelivery, WebhookSubscription
from jengu.apikeys.scopes import READ, SCOPES
from jengu.apikeys.webhook_events import WEBHOOK_EVENTS
from jengu.apikeys.webhooks import webhook_url_check


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope}: {text}") for scope, text in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=[READ],
        help_text="Give a key only what its integration needs.",
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ("name", "prefix", "scope_list", "active", "last_used_at", "created_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    fields = ("name", "scopes", "prefix", "revoked_at", "last_used_at", "created_at")
    readonly_fields = ("prefix", "revoked_at", "last_used_at", "created_at")
    actions = ["revoke"]

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(boolean=True)
    def active(self, obj: ApiKey) -> bool:
        return obj.active

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # A key's rights are fixed at creation; to change them, create a new key.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        created = api_key_create(name=obj.name, scopes=obj.scopes)
        obj.pk = created.api_key.pk
        obj.prefix = created.api_key.prefix
        messages.warning(
            request, f"API key for {obj.name!r}: {created.key} — copy it now, it is not stored."
        )

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_keys_revoke(api_keys=queryset)
        self.message_user(request, f"Revoked {count} key(s).", messages.SUCCESS)


class WebhookSubscriptionForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=[("*", "every event"), *((name, name) for name in WEBHOOK_EVENTS)],
        widget=forms.CheckboxSelectMultiple,
    )
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Leave blank to keep the current secret.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ("url", "events", "secret", "description", "active")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhook_url_check(url)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_secret(self) -> str:
        secret = self.cleaned_data["secret"]
        if not secret and not self.instance.pk:
            raise forms.ValidationError("A new subscription needs a secret.")
        return secret or self.instance.secret


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("url", "events", "active", "created_at")
    list_filter = ("active",)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event", "subscription", "status", "attempts", "response_status", "created_at")
    list_filter = ("status", "event")
    list_select_related = ("subscription",)
    raw_id_fields = ("subscription",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
