"""A/B winners: each variant's chance of the best human-reply rate, a minimum sample,
and promotion (by a person or automatic) that new enrollments follow, reversibly."""

from __future__ import annotations

import pytest

from crm.errors import InvalidInput
from outreach.bayes import Counts, probability_best
from outreach.compose_context import variant_choose
from outreach.deliverability.ab import (
    step_ab_result,
    variant_promote,
    variant_promotion_revert,
    winners_auto_promote,
)
from outreach.deliverability_models import (
    CampaignOptimisation,
    DeliverabilityLog,
    VariantPromotion,
)
from outreach.models import EmailMessage, InboundEmail
from tests.factories import CampaignFactory, CampaignStepFactory, EnrollmentFactory, ProspectFactory

pytestmark = pytest.mark.django_db
VARIANTS = [{"name": "B", "subject_template": "Other {{ business_name }}", "body_template": "B"}]


@pytest.fixture
def step(settings):
    settings.AB_MIN_SENDS = 50
    settings.AB_WIN_PROBABILITY = 0.95
    settings.AB_MONTE_CARLO_DRAWS = 4000
    return CampaignStepFactory(campaign=CampaignFactory(), order=1, variants=VARIANTS)


def sends(step, variant: str, count: int, replied: int, label=InboundEmail.Label.INTERESTED):
    for n in range(count):
        prospect = ProspectFactory()
        message = EmailMessage.objects.create(
            direction=EmailMessage.Direction.OUTBOUND,
            prospect=prospect,
            campaign=step.campaign,
            step=step.order,
            variant=variant,
            status=EmailMessage.Status.SENT,
            to_email=prospect.email,
        )
        if n < replied:
            InboundEmail.objects.create(
                raw=b"", source="imap", prospect=prospect, replied_to=message, label=label
            )


def test_probability_best_is_exact_enough_and_seeded():
    groups = {"A": Counts(10, 200), "B": Counts(30, 200)}

    first = probability_best(groups, draws=20000)

    assert first == probability_best(groups, draws=20000)
    assert first["B"] > 0.99
    even = probability_best({"A": Counts(10, 100), "B": Counts(10, 100)}, draws=20000)
    assert even["A"] == pytest.approx(0.5, abs=0.02)


def test_a_clear_winner_needs_the_minimum_sample(step):
    sends(step, "A", 30, replied=1)
    sends(step, "B", 30, replied=9)

    early = step_ab_result(step=step)

    assert early.winner == ""
    assert not early.enough
    assert "Too few sends" in early.verdict
    assert {v.name: v.probability_best for v in early.variants}["B"] > 0.95


def test_only_human_replies_count(step):
    sends(step, "A", 60, replied=2)
    sends(step, "B", 60, replied=20, label=InboundEmail.Label.AUTO_REPLY)

    result = step_ab_result(step=step)

    by_name = {v.name: v for v in result.variants}
    assert by_name["B"].replies == 0
    assert result.winner == ""


def test_the_winner_is_named_once_the_sample_is_there(step):
    sends(step, "A", 60, replied=2)
    sends(step, "B", 60, replied=14)

    result = step_ab_result(step=step)

    assert result.enough
    assert result.winner == "B"
    assert result.verdict.startswith("B wins")


def test_a_promoted_variant_goes_to_new_enrollments_and_reverting_restores_the_split(step):
    sends(step, "A", 60, replied=2)
    sends(step, "B", 60, replied=14)
    enrollments = [EnrollmentFactory(campaign=step.campaign) for _ in range(20)]
    split = {variant_choose(enrollment=e, step=step).name for e in enrollments}
    already_on_a = EnrollmentFactory(campaign=step.campaign, variant="A")

    variant_promote(step=step, variant="B", actor="user:sam")

    assert {variant_choose(enrollment=e, step=step).name for e in enrollments} == {"B"}
    assert variant_choose(enrollment=already_on_a, step=step).name == "A"  # keeps its voice
    with pytest.raises(InvalidInput):
        variant_promote(step=step, variant="A", actor="user:sam")
    assert variant_promotion_revert(step=step, actor="user:sam")
    assert (
        {variant_choose(enrollment=e, step=step).name for e in enrollments} == split == {"A", "B"}
    )
    kinds = list(DeliverabilityLog.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["variant_promoted", "variant_reverted"]


def test_an_unknown_variant_cannot_be_promoted(step):
    with pytest.raises(InvalidInput, match="no variant 'Z'"):
        variant_promote(step=step, variant="Z", actor="user:sam")


def test_auto_promotion_promotes_clear_winners_but_never_after_a_person_reverted(step):
    sends(step, "A", 60, replied=2)
    sends(step, "B", 60, replied=14)
    CampaignOptimisation.objects.create(campaign=step.campaign, ab_auto_promote=True)

    assert winners_auto_promote() == [f"{step.campaign.name} step 1: B"]
    promotion = VariantPromotion.objects.get(step=step)
    assert promotion.automatic and promotion.promoted_by == "rule:ab"
    assert winners_auto_promote() == []  # already promoted

    variant_promotion_revert(step=step, actor="user:sam")
    assert winners_auto_promote() == []


def test_auto_promotion_is_off_unless_the_campaign_allows_it(step):
    sends(step, "A", 60, replied=2)
    sends(step, "B", 60, replied=14)

    assert winners_auto_promote() == []
