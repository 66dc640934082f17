"""Admin for AI calls, with each provider's breaker state and a reset button."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from jengu.admin_utils import EstimatedCountPaginator
from jengu.redis_helpers import reset_breaker
from outreach.ai.selectors import BREAKER_PREFIX, ai_provider_states
from outreach.models import AICall


@admin.register(AICall)
class AICallAdmin(admin.ModelAdmin):
    change_list_template = "admin/outreach/aicall/change_list.html"
    list_display = (
        "created_at",
        "provider",
        "model",
        "purpose",
        "success",
        "error_class",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "reference",
    )
    list_filter = ("provider", "success", "error_class", "purpose")
    search_fields = ("=trace_id", "=reference")
    date_hierarchy = "created_at"
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AICall | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "providers": ai_provider_states()}
        return super().changelist_view(request, extra_context=extra_context)

    def get_urls(self):
        reset = self.admin_site.admin_view(require_POST(self.reset_breaker_view))
        return [
            path("breakers/<str:name>/reset/", reset, name="outreach_aicall_reset_breaker"),
            *super().get_urls(),
        ]

    def reset_breaker_view(self, request: HttpRequest, name: str) -> HttpResponse:
        # Viewing calls is not enough: resetting sends traffic to a provider again.
        allowed = request.user.has_perm("outreach.change_aicall")
        if not allowed or not name.startswith(BREAKER_PREFIX):
            raise PermissionDenied
        reset_breaker(name)
        self.message_user(request, f"Breaker {name} reset: the provider gets traffic again.")
        return HttpResponseRedirect(reverse("admin:outreach_aicall_changelist"))
