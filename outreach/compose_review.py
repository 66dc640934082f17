"""Whether a composed e-mail may go out on its own, and what its writing tells operators.

An e-mail waits for a person (`EmailMessage.hold_reason` says why) when it carries a
link, phone number, e-mail address or payment request that neither the step
template nor the prospect's record holds (`ai.untrusted`), when the campaign
requires approval and an AI wrote it (first touch or follow-up alike), or when
the campaign wants every follow-up reviewed. The step template as written is the
user's own text and needs no approval of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm.models import Enrollment
from jengu.alerts import alert
from jengu.metrics import count, observe
from outreach.ai.template import TemplateProvider
from outreach.ai.untrusted import allowed_details, draft_foreign_details
from outreach.compose_context import Variant
from outreach.compose_wait import UNEXPLAINED_FALLBACKS, Written
from outreach.models import EmailMessage


@dataclass(frozen=True)
class Review:
    hold_reason: str  # "" when the e-mail may go out as it is
    foreign: list[str]  # details the draft brought in itself


def draft_review(
    *, enrollment: Enrollment, variant: Variant, written: Written, first_touch: bool
) -> Review:
    """Whether (and why) this draft must wait for a person."""
    allowed = allowed_details(
        templates=(variant.subject_template, variant.body_template), prospect=enrollment.prospect
    )
    foreign = draft_foreign_details(written.draft, allowed)
    campaign = enrollment.campaign
    if foreign:
        reason = "details not in the step template or the prospect's record: " + "; ".join(foreign)
    elif campaign.require_approval and written.provider != TemplateProvider.name:
        reason = "the campaign requires approval of AI-written e-mails"
    elif not first_touch and campaign.approve_follow_ups:
        reason = "the campaign requires approval of follow-ups"
    else:
        reason = ""
    return Review(reason[:500], foreign)


def compose_report(*, message: EmailMessage, written: Written, review: Review) -> None:
    """Count who wrote the e-mail; alert when a person should look at how it was written."""
    fallback = {"fallback": written.fallback} if written.fallback else {}
    count("emails_composed", provider=written.provider, **fallback)
    if written.waited:
        observe("compose_wait_seconds", written.waited, provider=written.provider)
    if written.fallback in UNEXPLAINED_FALLBACKS:
        alert(
            "compose_template_while_ai_busy",
            "E-mails were written from the step template although no AI provider failed: "
            "every provider stayed busy (rate limits) past the compose deadline. Raise the "
            "providers' limits, add a key, or allow a longer wait.",
            dedup_key=f"campaign:{message.campaign_id}",
            campaign_id=message.campaign_id,
            reason=written.fallback,
        )
    if review.foreign:
        # The details themselves stay out of the chat message: a stranger wrote them.
        alert(
            "compose_draft_held",
            "A draft holds links, phone numbers, addresses or payment requests that neither "
            "the step template nor the prospect's record has (the prospect's website may be "
            "steering the AI). It waits in the review queue.",
            dedup_key=f"campaign:{message.campaign_id}",
            campaign_id=message.campaign_id,
            message_id=message.pk,
        )
