"""Compose one enrollment step's e-mail: AI when it can, the step's template when not.

`message_compose` is idempotent on the (enrollment, step) key: a second call, a
redelivered event or a racing worker gets the message that already exists. A
prospect who may no longer be e-mailed ends the attempt quietly with a reason.
Busy AI providers are waited for (`compose_wait`); a draft carrying a link,
phone number, address or payment request that neither the step template nor the
prospect's record holds waits for a person's review (`ai.untrusted`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from crm.enrollments import (
    STOP_STAGES,
    enrollment_pin_variant,
    enrollment_stop,
    enrollment_stop_for_stage,
)
from crm.models import Campaign, CampaignStep, EmailStatus, Enrollment, Prospect
from jengu.metrics import count
from jengu.sql import fetch_row, instance_with_related, row_instances, select_list
from outreach.ai.base import AIRequest
from outreach.ai.gateway import ai_providers
from outreach.ai.template import TemplateError, draft_render
from outreach.ai.validation import Draft
from outreach.compose_context import Variant, compose_context, prompt_data, variant_choose
from outreach.compose_review import compose_report, draft_review
from outreach.compose_wait import (
    NO_PROVIDERS,
    TEMPLATE_STEP,
    Deferred,
    Written,
    ai_write,
    compose_deadline,
    template_write,
)
from outreach.models import EmailMessage
from outreach.suppression import is_suppressed

logger = logging.getLogger(__name__)

TEMPLATE_ONLY_STRATEGY = "template"
# A prospect in these stages is never cold-e-mailed again. In the replied ones a
# conversation exists, so the enrollment ends as "replied" rather than "stopped".


# Plain SQL for the statements every compose runs (jengu/sql.py).
_ENROLLMENT_SQL = f"""
SELECT {select_list(Enrollment, "e")}, {select_list(Prospect, "p")}, {select_list(Campaign, "c")}
FROM {Enrollment._meta.db_table} AS e
JOIN {Prospect._meta.db_table} AS p ON p.id = e.prospect_id
JOIN {Campaign._meta.db_table} AS c ON c.id = e.campaign_id
WHERE e.id = %s
"""  # noqa: S608 - table names from the models
_STEP_SQL = f"""
SELECT {select_list(CampaignStep, "s")} FROM {CampaignStep._meta.db_table} AS s
JOIN {Enrollment._meta.db_table} AS e ON e.campaign_id = s.campaign_id
WHERE e.id = %s AND s."order" = %s
"""  # noqa: S608 - table names from the models
_EARLIER_STEP_SQL = f"""
SELECT 1 FROM {CampaignStep._meta.db_table} WHERE campaign_id = %s AND "order" < %s LIMIT 1
"""  # noqa: S608 - table name from the model
_BY_KEY_SQL = f"""
SELECT {select_list(EmailMessage, "m")} FROM {EmailMessage._meta.db_table} AS m
WHERE m.idempotency_key = %s
"""  # noqa: S608 - table name from the model


def enrollment_load(enrollment_id: int) -> Enrollment | None:
    """The enrollment with its prospect and campaign, as select_related loads them."""
    row = fetch_row(_ENROLLMENT_SQL, [enrollment_id])
    if row is None:
        return None
    return instance_with_related(row, Enrollment, prospect=Prospect, campaign=Campaign)


def _message_by_key(key: str) -> EmailMessage | None:
    row = fetch_row(_BY_KEY_SQL, [key])
    return row_instances(row, (EmailMessage,))[0] if row else None


def step_of_enrollment(*, enrollment_id: int, order: int) -> CampaignStep | None:
    """Step `order` of the enrollment's campaign; None if either no longer exists."""
    row = fetch_row(_STEP_SQL, [enrollment_id, order])
    return row_instances(row, (CampaignStep,))[0] if row else None


class ComposeError(ValueError):
    """The campaign's configuration cannot produce an e-mail (fix it, then requeue)."""


@dataclass(frozen=True)
class ComposeResult:
    status: str  # "composed" | "existing" | "skipped" | "deferred"
    message: EmailMessage | None = None
    reason: str = ""
    # "deferred": every usable provider is busy; compose again in `retry_in` seconds,
    # with the same `deadline`.
    retry_in: float | None = None
    deadline: datetime | None = None

    @property
    def sendable(self) -> bool:
        """True when the message is waiting for the sender (not for a reviewer)."""
        return self.message is not None and self.message.status == EmailMessage.Status.QUEUED


def _ineligibility(enrollment: Enrollment) -> str:
    """Why this enrollment may not get an e-mail now ("" when it may); stops it for good."""
    prospect, campaign = enrollment.prospect, enrollment.campaign
    if enrollment.status != Enrollment.Status.ACTIVE:
        return f"enrollment is {enrollment.status}"
    if campaign.status != Campaign.Status.ACTIVE:
        return f"campaign is {campaign.status}"
    if prospect.stage in STOP_STAGES:
        reason = f"prospect is {prospect.stage}"
        enrollment_stop_for_stage(enrollment_id=enrollment.pk, stage=prospect.stage, reason=reason)
        return reason
    if not prospect.email or prospect.email_status == EmailStatus.INVALID:
        reason = "prospect has no valid e-mail address"
    elif is_suppressed(prospect.email):
        reason = "address is suppressed"
    else:
        return ""
    enrollment_stop(enrollment_id=enrollment.pk, reason=reason)
    return reason


def _is_first_touch(step: CampaignStep) -> bool:
    return fetch_row(_EARLIER_STEP_SQL, [step.campaign_id, step.order]) is None


def _prompt(
    *, enrollment: Enrollment, step: CampaignStep, context: dict, draft: Draft, first_touch: bool
) -> AIRequest:
    strategy = step.strategy or (enrollment.campaign.strategy if first_touch else "follow_up")
    previous = (
        []
        if first_touch
        else EmailMessage.objects.filter(
            enrollment=enrollment, direction=EmailMessage.Direction.OUTBOUND, step__lt=step.order
        ).values_list("subject", flat=True)
    )
    prompt_context = {
        **context,
        "draft_subject": draft.subject,
        "draft_body": draft.body,
        "prospect_data": prompt_data(context=context, earlier_subjects=list(previous)),
    }
    try:
        prompt = render_to_string(f"prompts/{strategy}.txt", prompt_context)
    except TemplateDoesNotExist:
        raise ComposeError(
            f"strategy {strategy!r} has no prompt (templates/prompts/{strategy}.txt)"
        ) from None
    return AIRequest(system=render_to_string("prompts/system.txt"), prompt=prompt)


def _write(
    *,
    enrollment: Enrollment,
    step: CampaignStep,
    variant: Variant,
    written: Written,
    hold_reason: str,
) -> ComposeResult:
    key = EmailMessage.idempotency_key_for(enrollment.pk, step.order)
    status = EmailMessage.Status.PENDING_APPROVAL if hold_reason else EmailMessage.Status.QUEUED
    try:
        with transaction.atomic():
            message = EmailMessage.objects.create(
                direction=EmailMessage.Direction.OUTBOUND,
                prospect=enrollment.prospect,
                enrollment=enrollment,
                campaign=enrollment.campaign,
                step=step.order,
                variant=variant.name,
                to_email=enrollment.prospect.email,
                subject=written.draft.subject,
                body=written.draft.body,
                status=status,
                idempotency_key=key,
                provider=written.provider,
                fallback_reason=written.fallback,
                hold_reason=hold_reason,
            )
            enrollment_pin_variant(enrollment_id=enrollment.pk, variant=variant.name)
    except IntegrityError:
        # Another worker composed the same step first; theirs is the one.
        return ComposeResult("existing", _message_by_key(key))
    return ComposeResult("composed", message)


def _template_draft(
    *, enrollment: Enrollment, step: CampaignStep, variant: Variant, context: dict
) -> Draft:
    """The step's own text for this prospect: the fallback, and the model's brief."""
    try:
        return draft_render(
            subject_template=variant.subject_template,
            body_template=variant.body_template,
            context=context,
            seed=f"prospect:{enrollment.prospect_id}:step:{step.order}",
        )
    except TemplateError as exc:
        raise ComposeError(
            f"campaign {step.campaign_id} step {step.order} ({variant.name}): {exc}"
        ) from exc


def message_compose(*, enrollment: Enrollment, step: CampaignStep) -> ComposeResult:
    """Write the e-mail for `step` of `enrollment` once; see the module docstring."""
    if step.campaign_id != enrollment.campaign_id:
        raise ComposeError(f"step {step.pk} is not a step of enrollment {enrollment.pk}'s campaign")
    return message_compose_for(enrollment_id=enrollment.pk, step=step)


def message_compose_for(
    *, enrollment_id: int, step: CampaignStep, deadline: datetime | None = None
) -> ComposeResult:
    """`message_compose` by id, for a step of the enrollment's campaign (`step_of_enrollment`).

    The enrollment, its prospect and campaign are read afresh here: the answer
    depends on their state now, not when the caller loaded them. `deadline` is
    the one a "deferred" result gave (see `compose_wait`); a first try computes it.
    """
    key = EmailMessage.idempotency_key_for(enrollment_id, step.order)
    if existing := _message_by_key(key):
        return ComposeResult("existing", existing)
    enrollment = enrollment_load(enrollment_id)
    if enrollment is None:
        return ComposeResult("skipped", reason="the enrollment no longer exists")
    if reason := _ineligibility(enrollment):
        logger.info("not composing %s: %s", key, reason)
        return ComposeResult("skipped", reason=reason)
    variant = variant_choose(enrollment=enrollment, step=step)
    first_touch = _is_first_touch(step)
    written = _written(
        enrollment=enrollment,
        step=step,
        variant=variant,
        first_touch=first_touch,
        deadline=deadline,
    )
    if isinstance(written, Deferred):
        count("compose_deferred")
        return ComposeResult("deferred", retry_in=written.retry_in, deadline=written.deadline)
    review = draft_review(
        enrollment=enrollment, variant=variant, written=written, first_touch=first_touch
    )
    result = _write(
        enrollment=enrollment,
        step=step,
        variant=variant,
        written=written,
        hold_reason=review.hold_reason,
    )
    if result.status == "composed":
        compose_report(message=result.message, written=written, review=review)
    return result


def _written(
    *,
    enrollment: Enrollment,
    step: CampaignStep,
    variant: Variant,
    first_touch: bool,
    deadline: datetime | None,
) -> Written | Deferred:
    """The draft and who wrote it: the template renders first (it is the model's brief)."""
    key = EmailMessage.idempotency_key_for(enrollment.pk, step.order)
    context = compose_context(prospect=enrollment.prospect, step_order=step.order)
    fallback = _template_draft(enrollment=enrollment, step=step, variant=variant, context=context)
    if step.strategy == TEMPLATE_ONLY_STRATEGY:
        return template_write(fallback, reference=key, reason=TEMPLATE_STEP)
    remote = ai_providers()
    if not remote:
        return template_write(fallback, reference=key, reason=NO_PROVIDERS)
    request = _prompt(
        enrollment=enrollment, step=step, context=context, draft=fallback, first_touch=first_touch
    )
    if deadline is None:
        deadline = compose_deadline(
            campaign=enrollment.campaign, prospect=enrollment.prospect, now=timezone.now()
        )
    return ai_write(
        request=request,
        providers=remote,
        fallback=fallback,
        reference=key,
        deadline=deadline,
        wait_budget=settings.AI_BUSY_WAIT_SECONDS,
    )
