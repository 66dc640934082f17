"""The compose service: one e-mail per enrollment step, written by AI or the template."""

import pytest

from crm.models import Enrollment, Stage
from outreach.compose import ComposeError, message_compose
from outreach.models import AICall, EmailMessage, Suppression
from tests.factories import CampaignStepFactory, EnrollmentFactory, ProspectFactory
from tests.fakes.llm import DEFAULT_ANSWER
from tests.outreach.conftest import in_threads

pytestmark = pytest.mark.django_db

STEP_SUBJECT = "{Quick|Short} question for {{ business_name }}"
STEP_BODY = (
    "{Hi|Hello} {{ contact_first_name }},\n\nA note about {{ business_name }} in {{ city }}."
)


def make_step(campaign=None, **fields):
    fields.setdefault("subject_template", STEP_SUBJECT)
    fields.setdefault("body_template", STEP_BODY)
    if campaign is not None:
        fields["campaign"] = campaign
    return CampaignStepFactory(order=fields.pop("order", 1), **fields)


def enrolled(step, **prospect_fields):
    prospect = ProspectFactory(**prospect_fields)
    return EnrollmentFactory(prospect=prospect, campaign=step.campaign)


@pytest.fixture
def no_ai(settings, ai_state_clean):
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""
    return settings


def test_healthy_provider_writes_a_queued_message(ai_settings, fake_grok):
    step = make_step()
    enrollment = enrolled(step, business_name="Casa Azul", enrichment={"rooms": 12})

    result = message_compose(enrollment=enrollment, step=step)

    message = result.message
    assert (result.status, result.sendable) == ("composed", True)
    assert (message.status, message.provider) == (EmailMessage.Status.QUEUED, "grok:1")
    assert (message.subject, message.body) == (DEFAULT_ANSWER["subject"], DEFAULT_ANSWER["body"])
    assert message.to_email == enrollment.prospect.email
    assert message.idempotency_key == EmailMessage.idempotency_key_for(enrollment.pk, 1)
    prompt = fake_grok.requests[0].body["messages"][1]["content"]
    assert "Casa Azul" in prompt and '"rooms": 12' in prompt
    assert AICall.objects.get().reference == message.idempotency_key


def test_composing_twice_gives_one_message(ai_settings, fake_grok):
    step = make_step()
    enrollment = enrolled(step)

    first = message_compose(enrollment=enrollment, step=step)
    second = message_compose(enrollment=enrollment, step=step)

    assert (first.status, second.status) == ("composed", "existing")
    assert second.message.pk == first.message.pk
    assert EmailMessage.objects.count() == 1
    assert fake_grok.requests_for() == 1  # no second AI call


def test_all_providers_down_every_email_is_still_composed_from_the_template(
    ai_settings, fake_grok, fake_claude
):
    ai_settings.AI_TIMEOUT_SECONDS = 0.5
    fake_grok.behave("error")
    fake_claude.behave("hang")
    step = make_step()
    enrollments = [enrolled(step, contact_name="Anna Berg", city="Porto") for _ in range(6)]

    results = [message_compose(enrollment=e, step=step) for e in enrollments]

    assert [r.status for r in results] == ["composed"] * 6
    assert {r.message.provider for r in results} == {"template"}
    body = results[0].message.body
    assert body.split()[0] in {"Hi", "Hello"} and "Anna," in body and "in Porto." in body
    # each grok key failed 3 times and claude hung once before their breakers opened
    assert fake_grok.requests_for() == 6 and fake_claude.requests_for() == 1


def test_without_any_ai_key_the_template_writes_the_email(no_ai):
    step = make_step()
    enrollment = enrolled(step, business_name="Casa Azul", contact_name="")

    message = message_compose(enrollment=enrollment, step=step).message

    assert message.provider == "template"
    assert message.subject.endswith("question for Casa Azul")
    assert message.body.split("\n")[0].endswith(" there,")


def test_spintax_is_resolved_the_same_way_for_the_same_prospect(no_ai):
    step = make_step()
    enrollment = enrolled(step)
    first = message_compose(enrollment=enrollment, step=step).message
    EmailMessage.objects.all().delete()

    again = message_compose(enrollment=enrollment, step=step).message

    assert (again.subject, again.body) == (first.subject, first.body)


def test_template_strategy_skips_ai(ai_settings, fake_grok):
    step = make_step(strategy="template")

    message = message_compose(enrollment=enrolled(step), step=step).message

    assert message.provider == "template"
    assert fake_grok.requests_for() == 0


def test_variants_are_assigned_per_enrollment_and_recorded(no_ai):
    step = make_step(
        variants=[{"name": "B", "subject_template": "Variant B for {{ business_name }}"}]
    )
    enrollments = [enrolled(step) for _ in range(24)]

    messages = [message_compose(enrollment=e, step=step).message for e in enrollments]

    assert {m.variant for m in messages} == {"A", "B"}
    for enrollment, message in zip(enrollments, messages, strict=True):
        enrollment.refresh_from_db()
        assert enrollment.variant == message.variant
        assert message.subject.startswith("Variant B") == (message.variant == "B")


def test_an_enrollment_keeps_its_variant_in_later_steps(no_ai):
    first = make_step(variants=[{"name": "B"}])
    second = make_step(campaign=first.campaign, order=2, variants=[{"name": "B"}])
    enrollment = enrolled(first)
    enrollment.variant = "B"
    enrollment.save()

    assert message_compose(enrollment=enrollment, step=second).message.variant == "B"


def test_ai_first_touch_waits_for_approval_when_the_campaign_requires_it(ai_settings):
    step = make_step()
    step.campaign.require_approval = True
    step.campaign.save()

    result = message_compose(enrollment=enrolled(step), step=step)

    assert result.message.status == EmailMessage.Status.PENDING_APPROVAL
    assert not result.sendable


def test_template_first_touch_needs_no_approval(no_ai):
    step = make_step()
    step.campaign.require_approval = True
    step.campaign.save()

    assert message_compose(enrollment=enrolled(step), step=step).sendable


@pytest.mark.parametrize(
    ("require_approval", "approve_follow_ups", "status"),
    [
        (True, False, "pending_approval"),  # approval required: AI follow-ups too
        (False, True, "pending_approval"),
        (False, False, "queued"),
    ],
)
def test_ai_follow_ups_wait_when_the_campaign_requires_approval(
    ai_settings, require_approval, approve_follow_ups, status
):
    first = make_step()
    follow_up = make_step(campaign=first.campaign, order=2)
    first.campaign.require_approval = require_approval
    first.campaign.approve_follow_ups = approve_follow_ups
    first.campaign.save()

    message = message_compose(enrollment=enrolled(first), step=follow_up).message

    assert message.status == status
    assert bool(message.hold_reason) == (status == "pending_approval")


def test_template_follow_ups_wait_only_for_approve_follow_ups(no_ai):
    first = make_step()
    follow_up = make_step(campaign=first.campaign, order=2)
    first.campaign.require_approval = True
    first.campaign.save()

    assert message_compose(enrollment=enrolled(first), step=follow_up).sendable

    first.campaign.approve_follow_ups = True
    first.campaign.save()
    held = message_compose(enrollment=enrolled(first), step=follow_up).message
    assert held.hold_reason == "the campaign requires approval of follow-ups"


def test_follow_up_prompt_uses_the_follow_up_strategy_and_earlier_subjects(ai_settings, fake_grok):
    first = make_step()
    follow_up = make_step(campaign=first.campaign, order=2)
    enrollment = enrolled(first)
    message_compose(enrollment=enrollment, step=first)

    message_compose(enrollment=enrollment, step=follow_up)

    prompt = fake_grok.requests[-1].body["messages"][1]["content"]
    assert "follow-up number 1" in prompt
    assert DEFAULT_ANSWER["subject"] in prompt


@pytest.mark.parametrize(
    ("stage", "enrollment_status"),
    [
        (Stage.UNSUBSCRIBED, Enrollment.Status.STOPPED),
        (Stage.BOUNCED, Enrollment.Status.STOPPED),
        (Stage.INVALID, Enrollment.Status.STOPPED),
        (Stage.REPLIED, Enrollment.Status.REPLIED),
    ],
)
def test_ineligible_prospect_ends_quietly_with_a_reason(no_ai, stage, enrollment_status):
    step = make_step()
    enrollment = enrolled(step, stage=stage)

    result = message_compose(enrollment=enrollment, step=step)

    enrollment.refresh_from_db()
    assert (result.status, result.message) == ("skipped", None)
    assert result.reason == f"prospect is {stage}"
    assert (enrollment.status, enrollment.stop_reason) == (enrollment_status, result.reason)
    assert not EmailMessage.objects.exists()


def test_suppressed_address_is_not_composed(no_ai):
    step = make_step()
    enrollment = enrolled(step, email="anna@blocked.example")
    Suppression.objects.create(value="blocked.example", kind=Suppression.Kind.DOMAIN)

    result = message_compose(enrollment=enrollment, step=step)

    enrollment.refresh_from_db()
    assert (result.status, result.reason) == ("skipped", "address is suppressed")
    assert enrollment.status == Enrollment.Status.STOPPED


def test_paused_enrollment_is_skipped_and_left_alone(no_ai):
    step = make_step()
    enrollment = enrolled(step)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.PAUSED)

    result = message_compose(enrollment=enrollment, step=step)

    enrollment.refresh_from_db()
    assert (result.status, result.reason) == ("skipped", "enrollment is paused")
    assert (enrollment.status, enrollment.stop_reason) == (Enrollment.Status.PAUSED, "")


def test_a_broken_step_template_is_a_clear_error_and_costs_no_ai_call(ai_settings, fake_grok):
    step = make_step(body_template="Hi {% if %}")
    enrollment = enrolled(step)

    with pytest.raises(ComposeError, match=r"step 1 \(A\): step template does not render"):
        message_compose(enrollment=enrollment, step=step)

    assert fake_grok.requests_for() == 0
    assert not EmailMessage.objects.exists()


def test_unknown_strategy_is_a_clear_error(ai_settings):
    step = make_step(strategy="telepathy")

    with pytest.raises(ComposeError, match="telepathy"):
        message_compose(enrollment=enrolled(step), step=step)


def test_a_step_of_another_campaign_is_refused(no_ai):
    step, other = make_step(), make_step()

    with pytest.raises(ComposeError, match="not a step"):
        message_compose(enrollment=enrolled(other), step=step)


@pytest.mark.django_db(transaction=True)
def test_two_workers_composing_the_same_step_write_one_message(no_ai):
    step = make_step()
    enrollment = enrolled(step)
    results = in_threads(4, lambda: message_compose(enrollment=enrollment, step=step))

    assert EmailMessage.objects.count() == 1
    assert sorted(r.status for r in results).count("composed") == 1
    assert {r.message.pk for r in results} == {EmailMessage.objects.get().pk}
