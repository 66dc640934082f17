"""Who writes an e-mail: an AI provider, waited for while it is busy, or the template.

A provider is *busy* when our token bucket for it is empty or it answered 429;
it is *failing* when its breaker is open, it errs, or it answers nonsense. A
busy provider is waited for: up to `AI_BUSY_WAIT_SECONDS` asleep here, then the
compose is re-queued with a delay (`Deferred`). The step template writes the
e-mail only when every provider is failing, or when waiting would pass the
compose deadline: the end of the prospect's sending window, and never later than
`AI_COMPOSE_MAX_WAIT_SECONDS` after the first try.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from crm.models import Campaign, Prospect
from outreach.ai.base import AIRequest, Provider
from outreach.ai.gateway import ai_generate
from outreach.ai.template import TemplateProvider
from outreach.ai.validation import Draft, draft_from_text
from outreach.sending.windows import prospect_zone, window_check, window_next_opening

# Why the template wrote an e-mail (`EmailMessage.fallback_reason`).
PROVIDERS_FAILED = "providers_failed"  # every configured provider is failing
DEADLINE = "deadline"  # providers were only busy, and waiting would pass the deadline
NO_PROVIDERS = "no_providers"  # no AI provider is configured
TEMPLATE_STEP = "template_step"  # the step's strategy is "template": never AI
# A fall to the template that no provider failure explains: someone should look.
UNEXPLAINED_FALLBACKS = frozenset({DEADLINE})


@dataclass(frozen=True)
class Written:
    draft: Draft
    provider: str
    fallback: str = ""  # why the template wrote it; "" when an AI provider did
    waited: float = 0.0  # seconds spent waiting for busy providers


@dataclass(frozen=True)
class Deferred:
    """Every usable provider is busy for longer than this worker may sleep."""

    retry_in: float
    deadline: datetime
    waited: float


def compose_deadline(*, campaign: Campaign, prospect: Prospect, now: datetime) -> datetime:
    """The latest time an AI-written e-mail is worth waiting for (see the module doc).

    It is when the prospect's sending window closes (outside the window: when the
    next one closes, as the e-mail cannot leave before it opens anyway), and at
    most `AI_COMPOSE_MAX_WAIT_SECONDS` after `now`.
    """
    latest = now + timedelta(seconds=settings.AI_COMPOSE_MAX_WAIT_SECONDS)
    boundary = window_next_opening(campaign=campaign, prospect=prospect, after=now)
    zone = prospect_zone(prospect)
    while boundary < latest:  # windows open and close on the prospect's local hours
        local_hour = boundary.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        boundary = local_hour.astimezone(UTC) + timedelta(hours=1)
        if not window_check(campaign=campaign, prospect=prospect, at=boundary).open:
            return min(boundary, latest)
    return latest


def template_write(draft: Draft, *, reference: str, reason: str, waited: float = 0.0) -> Written:
    """The step's own text, recorded as the template provider's call."""
    outcome = ai_generate(
        request=AIRequest("", ""),  # the template provider reads no prompt
        parse=draft_from_text,
        providers=[TemplateProvider(draft)],
        reference=reference,
    )
    return Written(outcome.result, outcome.provider, reason, waited)


def ai_write(
    *,
    request: AIRequest,
    providers: Sequence[Provider],
    fallback: Draft,
    reference: str,
    deadline: datetime,
    wait_budget: float,
) -> Written | Deferred:
    """Ask `providers` in order until one writes the e-mail, waiting while they are busy.

    A provider that failed for this e-mail is not asked again during the wait.
    """
    started, failed = time.monotonic(), set()
    while True:
        candidates = [provider for provider in providers if provider.name not in failed]
        outcome = ai_generate(
            request=request, parse=draft_from_text, providers=candidates, reference=reference
        )
        waited = time.monotonic() - started
        if outcome.result is not None:
            return Written(outcome.result, outcome.provider, waited=waited)
        failed |= outcome.failed
        wait = outcome.busy_seconds
        if wait is None:
            return template_write(
                fallback, reference=reference, reason=PROVIDERS_FAILED, waited=waited
            )
        if timezone.now() + timedelta(seconds=wait) > deadline:
            return template_write(fallback, reference=reference, reason=DEADLINE, waited=waited)
        if waited + wait > wait_budget:
            return Deferred(retry_in=wait, deadline=deadline, waited=waited)
        # A little jitter: workers waiting on one bucket should not all wake together.
        time.sleep(wait * random.uniform(1.0, 1.25))  # noqa: S311 - not crypto
