"""The AI gateway against loopback Grok/Anthropic fakes: order, breakers, buckets, limits."""

import json
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from jengu.redis_helpers import CircuitBreaker
from outreach.ai.base import AIRequest
from outreach.ai.gateway import ai_generate, ai_providers
from outreach.ai.hold import ProviderHold
from outreach.ai.template import TemplateProvider
from outreach.ai.validation import Draft, draft_from_text
from outreach.models import AICall
from tests.outreach.conftest import CLAUDE_KEY, GROK_KEYS, in_threads

pytestmark = pytest.mark.django_db

KEY1, KEY2 = GROK_KEYS
REQUEST = AIRequest(system="Write an e-mail.", prompt="To Hotel Example in Lisbon.")


def generate(**kwargs):
    return ai_generate(request=REQUEST, parse=draft_from_text, **kwargs)


def breaker_state(name: str) -> str:
    return CircuitBreaker(f"ai:{name}").state


def test_healthy_first_key_writes_the_email_and_the_call_is_logged(ai_settings, fake_grok):
    outcome = generate(reference="7:1")

    assert outcome.provider == "grok:1"
    assert isinstance(outcome.result, Draft)
    assert fake_grok.requests_for(KEY1) == 1 and fake_grok.requests_for(KEY2) == 0
    sent = fake_grok.requests[0].body
    assert sent["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in sent["messages"]] == ["system", "user"]
    call = AICall.objects.get()
    assert (call.provider, call.success, call.reference) == ("grok:1", True, "7:1")
    assert (call.prompt_tokens, call.completion_tokens) == (120, 60)


def test_fallback_order_is_grok_key1_then_key2_then_claude(ai_settings, fake_grok, fake_claude):
    fake_grok.behave("error")

    outcome = generate()

    assert [a.provider for a in outcome.attempts] == ["grok:1", "grok:2", "claude"]
    assert outcome.provider == "claude"
    assert fake_claude.requests[0].body["system"] == REQUEST.system
    assert list(AICall.objects.order_by("id").values_list("provider", "success")) == [
        ("grok:1", False),
        ("grok:2", False),
        ("claude", True),
    ]


def test_second_grok_key_is_its_own_provider(ai_settings, fake_grok, fake_claude):
    fake_grok.behave("error", key=KEY1)

    outcome = generate()

    assert outcome.provider == "grok:2"
    assert fake_claude.requests_for() == 0


def test_breaker_opens_after_three_failures_and_the_dead_provider_sees_no_more_requests(
    ai_settings, fake_grok
):
    ai_settings.XAI_API_KEYS = [KEY1]
    fake_grok.behave("error")

    outcomes = [generate() for _ in range(8)]

    assert fake_grok.requests_for(KEY1) == 3
    assert breaker_state("grok:1") == "open"
    assert {o.provider for o in outcomes} == {"claude"}
    skipped = [a for o in outcomes[3:] for a in o.attempts if a.provider == "grok:1"]
    assert {(a.called, a.error_class) for a in skipped} == {(False, "breaker_open")}
    assert AICall.objects.filter(provider="grok:1").count() == 3


def trip_grok_breaker(ai_settings, fake_grok) -> None:
    """One Grok key whose breaker rests 1 s, opened by three failures."""
    ai_settings.XAI_API_KEYS = [KEY1]
    ai_settings.AI_BREAKER_RESET_SECONDS = 1
    fake_grok.behave("error")
    for _ in range(3):
        generate()
    assert breaker_state("grok:1") == "open"


def test_half_open_probe_recovers_the_provider(ai_settings, fake_grok):
    trip_grok_breaker(ai_settings, fake_grok)

    fake_grok.behave("ok")
    time.sleep(1.1)  # the breaker's rest period
    probe = generate()

    assert probe.provider == "grok:1"
    assert breaker_state("grok:1") == "closed"
    assert generate().provider == "grok:1"
    assert fake_grok.requests_for(KEY1) == 5


def test_failed_half_open_probe_opens_the_breaker_again(ai_settings, fake_grok):
    trip_grok_breaker(ai_settings, fake_grok)

    time.sleep(1.1)
    probe = generate()  # still failing

    assert probe.attempts[0].called and not probe.attempts[0].success
    assert breaker_state("grok:1") == "open"
    assert fake_grok.requests_for(KEY1) == 4


def test_hanging_provider_costs_one_timeout_not_one_per_email(ai_settings, fake_grok):
    ai_settings.XAI_API_KEYS = [KEY1]
    ai_settings.AI_TIMEOUT_SECONDS = 0.5
    fake_grok.behave("hang")

    outcomes = [generate() for _ in range(5)]

    assert fake_grok.requests_for(KEY1) == 1
    assert outcomes[0].attempts[0].error_class == "timeout"
    assert {o.provider for o in outcomes} == {"claude"}
    assert breaker_state("grok:1") == "open"


def test_all_providers_down_falls_back_to_the_template(ai_settings, fake_grok, fake_claude):
    fake_grok.behave("error")
    fake_claude.behave("error")
    draft = Draft(subject="Hello", body="Template body for the hotel.")

    outcome = generate(providers=[*ai_providers(), TemplateProvider(draft)])
    without_fallback = generate()

    assert (outcome.provider, outcome.result) == ("template", draft)
    assert without_fallback.result is None
    assert AICall.objects.filter(provider="template", success=True).count() == 1


@pytest.mark.django_db(transaction=True)  # the threads write with their own connections
def test_bucket_limits_calls_across_threads(ai_settings, fake_grok, fake_claude):
    ai_settings.XAI_API_KEYS = [KEY1]
    ai_settings.AI_BUCKET_CAPACITY = 3  # per provider
    ai_settings.AI_BUCKET_REFILL_PER_SECOND = 0.001  # nothing refills during the test
    fallback = TemplateProvider(Draft(subject="Hello", body="Template body for the hotel."))
    outcomes = in_threads(12, lambda: generate(providers=[*ai_providers(), fallback]))

    assert (fake_grok.requests_for(), fake_claude.requests_for()) == (3, 3)
    providers = sorted(o.provider for o in outcomes)
    assert providers == ["claude"] * 3 + ["grok:1"] * 3 + ["template"] * 6
    skipped = [a for o in outcomes for a in o.attempts if a.error_class == "bucket_empty"]
    assert len(skipped) == 9 + 6 and not any(a.called for a in skipped)
    assert breaker_state("grok:1") == "closed"  # skipping is not failing


BAD_ANSWERS = {
    "missing subject": {"body": "Hello Anna, a short note about your hotel in Lisbon."},
    "as an AI": {"subject": "Hi", "body": "As an AI, I cannot know your hotel, but hello there."},
    "unfilled placeholder": {"subject": "Hi", "body": "Hi {{ contact_first_name }}, a short note."},
    "over-long": {"subject": "Hi", "body": "word " * 1000},
}


@pytest.mark.parametrize("answer", BAD_ANSWERS.values(), ids=BAD_ANSWERS.keys())
def test_invalid_answers_count_as_provider_failures(ai_settings, fake_grok, answer):
    ai_settings.XAI_API_KEYS = [KEY1]
    fake_grok.behave("ok", answer=answer)

    outcomes = [generate() for _ in range(4)]

    assert {o.provider for o in outcomes} == {"claude"}
    assert outcomes[0].attempts[0].error_class == "invalid_answer"
    assert fake_grok.requests_for(KEY1) == 3  # three bad answers opened its breaker
    assert breaker_state("grok:1") == "open"


def test_garbage_in_a_success_response_is_a_failure(ai_settings, fake_grok):
    fake_grok.behave("garbage", key=KEY1)

    outcome = generate()

    assert outcome.provider == "grok:2"
    assert outcome.attempts[0].error == "answer is not JSON"


def test_429_is_busy_not_failed_and_holds_that_provider_for_retry_after(ai_settings, fake_grok):
    fake_grok.behave("rate_limit", key=KEY1, retry_after=30)

    first, second = generate(), generate()

    told, held = first.attempts[0], second.attempts[0]
    assert (told.called, told.error_class, told.busy_seconds) == (True, "rate_limited", 30)
    assert (held.called, held.error_class) == (False, "rate_limited")
    assert 25 < held.busy_seconds <= 30
    assert (first.provider, second.provider) == ("grok:2", "grok:2")
    assert fake_grok.requests_for(KEY1) == 1  # nothing more until Retry-After
    assert breaker_state("grok:1") == "closed"  # busy is no failure
    assert first.failed == set()


def test_429_retry_after_is_capped(ai_settings, fake_grok):
    ai_settings.AI_RATE_LIMIT_MAX_SECONDS = 5
    fake_grok.behave("rate_limit", key=KEY1, retry_after=86400)

    generate()

    assert 0 < ProviderHold("ai:grok:1").remaining() <= 5


def test_a_429_answering_the_half_open_probe_closes_the_breaker(ai_settings, fake_grok):
    trip_grok_breaker(ai_settings, fake_grok)
    fake_grok.behave("rate_limit", retry_after=2)

    time.sleep(1.1)  # the breaker's rest period
    probe = generate()

    assert probe.attempts[0].called and probe.attempts[0].busy_seconds == 2
    assert breaker_state("grok:1") == "closed"  # it answered: up, only busy
    assert generate().attempts[0].error_class == "rate_limited"  # held, not failing
    assert fake_grok.requests_for(KEY1) == 4


def test_a_429_neither_counts_as_a_failure_nor_clears_the_failure_streak(ai_settings, fake_grok):
    ai_settings.XAI_API_KEYS = [KEY1]
    fake_grok.behave("error")
    generate()
    generate()
    fake_grok.behave("rate_limit", retry_after=1)
    generate()
    time.sleep(1.1)  # the shortest hold a 429 gives
    fake_grok.behave("error")

    generate()

    assert breaker_state("grok:1") == "open"  # error, error, (busy), error: three in a row


def test_rejected_key_opens_the_breaker_at_once(ai_settings, fake_grok):
    fake_grok.behave("unauthorized", key=KEY1)

    generate()
    generate()

    assert fake_grok.requests_for(KEY1) == 1
    assert breaker_state("grok:1") == "open"


def test_keys_never_reach_logs_or_call_records(ai_settings, fake_grok, fake_claude, caplog):
    fake_grok.behave("unauthorized")
    fake_claude.behave("error")

    generate()

    recorded = json.dumps(list(AICall.objects.values("error", "error_class", "model")))
    for secret in (*GROK_KEYS, CLAUDE_KEY):
        assert secret not in caplog.text
        assert secret not in recorded


def test_providers_follow_settings(settings, ai_state_clean):
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""
    assert ai_providers() == []

    settings.XAI_API_KEYS = ["a", "b", "c"]
    settings.ANTHROPIC_API_KEY = "k"
    settings.AI_PROVIDERS = ["anthropic", "grok"]
    assert [p.name for p in ai_providers()] == ["claude", "grok:1", "grok:2", "grok:3"]

    settings.AI_PROVIDERS = ["grok", "openai"]
    with pytest.raises(ImproperlyConfigured, match="openai"):
        ai_providers()
