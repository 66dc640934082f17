"""The AI gateway: try providers in order, record every call, never raise for AI trouble.

Order: each Grok key, then Claude (per `AI_PROVIDERS`), then whatever fallback the
caller passes. A provider whose breaker is open, or that is busy (empty bucket,
429 hold), is skipped without a request, so a dead provider costs nothing once
its breaker has opened. One call of `ai_generate` is one pass and never waits;
a caller that would rather wait for a busy provider than go without (the
composer) reads `AIResult.busy_seconds` and calls again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from jengu.bus import current_envelope
from jengu.metrics import observe
from outreach.ai.anthropic import claude_providers
from outreach.ai.base import AIRequest, Attempt, Provider
from outreach.ai.grok import grok_providers
from outreach.models import AICall

logger = logging.getLogger(__name__)

# Adding a provider family: one class in its own module, one line here, and its
# name in the AI_PROVIDERS setting.
PROVIDER_FAMILIES: dict[str, Callable[[], list[Provider]]] = {
    "grok": grok_providers,
    "anthropic": claude_providers,
}


def ai_providers() -> list[Provider]:
    """The configured remote providers in fallback order (families without keys are absent)."""
    providers: list[Provider] = []
    for family in settings.AI_PROVIDERS:
        if family not in PROVIDER_FAMILIES:
            raise ImproperlyConfigured(
                f"AI_PROVIDERS names {family!r}; known: {', '.join(PROVIDER_FAMILIES)}"
            )
        providers.extend(PROVIDER_FAMILIES[family]())
    return providers


@dataclass
class AIResult:
    """The first usable answer (`result` None when none answered) and the tries."""

    result: Any
    provider: str = ""
    model: str = ""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def busy_seconds(self) -> float | None:
        """With no answer: how soon the first busy provider can take the request
        (None when no provider was busy, i.e. every one of them failed)."""
        waits = [a.busy_seconds for a in self.attempts if a.busy_seconds is not None]
        return min(waits) if waits else None

    @property
    def failed(self) -> set[str]:
        """Providers that were asked and failed (busy ones are not in it)."""
        return {
            a.provider
            for a in self.attempts
            if a.called and not a.success and a.busy_seconds is None
        }


def _trace_id() -> str:
    envelope = current_envelope()
    return str(getattr(envelope, "trace_id", "") or "") if envelope else ""


def _record_calls(attempts: list[Attempt], *, purpose: str, reference: str) -> None:
    trace_id = _trace_id()
    for attempt in attempts:
        if attempt.called:
            outcome = "ok" if attempt.success else "failed"
            observe(
                "ai_call_seconds",
                attempt.latency_ms / 1000,
                provider=attempt.provider,
                outcome=outcome,
            )
    AICall.objects.bulk_create(
        AICall(
            provider=attempt.provider,
            model=attempt.model[:100],
            purpose=purpose,
            reference=reference[:64],
            success=attempt.success,
            error_class=attempt.error_class,
            error=attempt.error[:500],
            latency_ms=attempt.latency_ms,
            prompt_tokens=attempt.prompt_tokens,
            completion_tokens=attempt.completion_tokens,
            trace_id=trace_id,
        )
        for attempt in attempts
        if attempt.called
    )


def ai_generate(
    *,
    request: AIRequest,
    parse: Callable[[str], Any],
    providers: Sequence[Provider] | None = None,
    reference: str = "",
) -> AIResult:
    """Ask each provider in turn until one answers with something `parse` accepts.

    `parse` turns answer text into the caller's value and raises InvalidAnswer for
    an unusable one (which counts as that provider's failure). Every request made
    is stored as an AICall row.
    """
    outcome = AIResult(result=None)
    for provider in ai_providers() if providers is None else providers:
        attempt = provider.attempt(request, parse)
        outcome.attempts.append(attempt)
        if attempt.called and not attempt.success:
            log = logger.info if attempt.busy_seconds is not None else logger.warning
            log("AI provider %s: %s %s", provider.name, attempt.error_class, attempt.error)
        if attempt.success:
            outcome.result, outcome.provider, outcome.model = (
                attempt.result,
                attempt.provider,
                attempt.model,
            )
            break
    _record_calls(outcome.attempts, purpose=request.purpose, reference=reference)
    return outcome
