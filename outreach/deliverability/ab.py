"""A/B winners: for each step with variants, the probability that each variant has the
highest human-reply rate, and promotion of the winner.

A variant's sends are its step's e-mails that went out; its replies, those e-mails
that got a human answer (not an auto-reply, bounce or complaint). Each variant's
reply rate has a Beta(1 + replies, 1 + sends − replies) posterior; "probability
best" is read from seeded Monte Carlo draws. A winner needs AB_MIN_SENDS sends on
every variant and AB_WIN_PROBABILITY of being best. Promoting it (by a person, or
by the campaign's auto-promotion) gives it to every enrollment that has no variant
yet; those already on another variant keep theirs, so no thread changes voice.
Reverting puts the even split back. Both are logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from crm.errors import InvalidInput
from crm.models import Campaign, CampaignStep
from outreach.bayes import Counts, probability_best, rate
from outreach.compose_context import step_variants
from outreach.deliverability_models import DeliverabilityLog, VariantPromotion
from outreach.models import EmailMessage, InboundEmail
from outreach.sending.deliverability_log import deliverability_log

from .send_time_services import HUMAN_LABELS

Kind = DeliverabilityLog.Kind


@dataclass
class VariantResult:
    name: str
    sends: int
    replies: int
    reply_rate: float | None
    probability_best: float


@dataclass
class StepResult:
    step_id: int
    order: int
    variants: list[VariantResult] = field(default_factory=list)
    winner: str = ""
    enough: bool = False
    verdict: str = ""
    promoted: str = ""
    promoted_by: str = ""


def _counts(step: CampaignStep) -> dict[str, Counts]:
    human = InboundEmail.objects.filter(replied_to=OuterRef("pk"), label__in=HUMAN_LABELS)
    rows = (
        EmailMessage.objects.filter(
            campaign_id=step.campaign_id,
            step=step.order,
            direction=EmailMessage.Direction.OUTBOUND,
            status=EmailMessage.Status.SENT,
        )
        .values("variant")
        .annotate(sends=Count("pk"), replies=Count("pk", filter=Exists(human)))
    )
    counts = {variant.name: Counts() for variant in step_variants(step=step)}
    for row in rows:
        counts.setdefault(row["variant"] or "A", Counts()).add(row["replies"], row["sends"])
    return counts


def step_ab_result(*, step: CampaignStep) -> StepResult:
    counts = _counts(step)
    best = probability_best(counts, draws=settings.AB_MONTE_CARLO_DRAWS)
    result = StepResult(step_id=step.pk, order=step.order)
    for name, each in counts.items():
        result.variants.append(
            VariantResult(name, each.sends, each.replies, rate(each), best[name])
        )
    smallest = min(each.sends for each in counts.values())
    result.enough = smallest >= settings.AB_MIN_SENDS
    leader = max(result.variants, key=lambda v: v.probability_best)
    if not result.enough:
        result.verdict = (
            f"Too few sends to call a winner: the smallest variant has {smallest}; "
            f"each needs {settings.AB_MIN_SENDS}."
        )
    elif leader.probability_best >= settings.AB_WIN_PROBABILITY:
        result.winner = leader.name
        result.verdict = f"{leader.name} wins: {leader.probability_best:.0%} likely to be best."
    else:
        result.verdict = (
            f"No winner yet: {leader.name} leads with {leader.probability_best:.0%} "
            f"(a winner needs {settings.AB_WIN_PROBABILITY:.0%})."
        )
    promotion = active_promotion(step=step)
    if promotion:
        result.promoted, result.promoted_by = promotion.variant, promotion.promoted_by
    return result


def campaign_ab_results(*, campaign: Campaign) -> list[StepResult]:
    """One result per step that has variants."""
    steps = [step for step in campaign.steps.order_by("order") if step.variants]
    return [step_ab_result(step=step) for step in steps]


def active_promotion(*, step: CampaignStep) -> VariantPromotion | None:
    return VariantPromotion.objects.filter(step=step, reverted_at__isnull=True).first()


@transaction.atomic
def variant_promote(
    *, step: CampaignStep, variant: str, actor: str, automatic: bool = False
) -> VariantPromotion:
    """Make `variant` the one new enrollments get at this step (409-worthy if one is)."""
    if variant not in {option.name for option in step_variants(step=step)}:
        raise InvalidInput("variant", f"step {step.order} has no variant {variant!r}")
    result = step_ab_result(step=step)
    probability = next(v.probability_best for v in result.variants if v.name == variant)
    try:
        with transaction.atomic():
            promotion = VariantPromotion.objects.create(
                step=step,
                variant=variant,
                probability_best=probability,
                automatic=automatic,
                promoted_by=actor[:150],
            )
    except IntegrityError:
        raise InvalidInput("variant", "a variant of this step is already promoted") from None
    detail = f"step {step.order}: variant {variant} promoted ({probability:.0%} likely best)"
    deliverability_log(
        kind=Kind.VARIANT_PROMOTED, actor=actor, campaign=step.campaign, detail=detail
    )
    return promotion


@transaction.atomic
def variant_promotion_revert(*, step: CampaignStep, actor: str) -> bool:
    """Back to the even split for new enrollments; False when nothing was promoted."""
    promotion = active_promotion(step=step)
    if promotion is None:
        return False
    promotion.reverted_by, promotion.reverted_at = actor[:150], timezone.now()
    promotion.save(update_fields=["reverted_by", "reverted_at"])
    detail = f"step {step.order}: promotion of variant {promotion.variant} reverted"
    deliverability_log(
        kind=Kind.VARIANT_REVERTED, actor=actor, campaign=step.campaign, detail=detail
    )
    return True


def winners_auto_promote() -> list[str]:
    """Promote clear winners of campaigns that allow it; never a step a person reverted."""
    promoted = []
    steps = CampaignStep.objects.filter(
        campaign__status=Campaign.Status.ACTIVE, campaign__optimisation__ab_auto_promote=True
    ).exclude(variants=[])
    for step in steps.select_related("campaign"):
        by_person = step.promotions.filter(reverted_at__isnull=False)
        reverted = by_person.exclude(reverted_by__startswith="rule:").exists()
        if reverted or active_promotion(step=step):
            continue
        result = step_ab_result(step=step)
        if result.winner:
            variant_promote(step=step, variant=result.winner, actor="rule:ab", automatic=True)
            promoted.append(f"{step.campaign.name} step {step.order}: {result.winner}")
    return promoted
