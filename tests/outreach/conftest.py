"""Fixtures for the AI gateway and composer tests: fake providers wired into settings."""

import pytest

from jengu.redis_helpers import get_redis
from tests.fakes.llm import fake_claude, fake_grok  # noqa: F401 - fixtures

GROK_KEYS = ["grok-key-1", "grok-key-2"]
CLAUDE_KEY = "claude-key"


@pytest.fixture
def ai_state_clean():
    """Start with every AI breaker closed and every AI bucket full."""
    client = get_redis()
    for pattern in ("jengu:breaker:ai:*", "jengu:bucket:ai:*"):
        for key in client.scan_iter(pattern):
            client.delete(key)


@pytest.fixture
def ai_settings(settings, fake_grok, fake_claude, ai_state_clean):  # noqa: F811
    """Two Grok keys and Claude, all pointing at loopback fakes, with short timeouts."""
    settings.AI_PROVIDERS = ["grok", "anthropic"]
    settings.XAI_API_KEYS = GROK_KEYS
    settings.XAI_BASE_URL = fake_grok.url
    settings.ANTHROPIC_API_KEY = CLAUDE_KEY
    settings.ANTHROPIC_BASE_URL = fake_claude.url
    settings.AI_TIMEOUT_SECONDS = 0.5
    settings.AI_BREAKER_FAILURE_THRESHOLD = 3
    settings.AI_BREAKER_RESET_SECONDS = 60
    settings.AI_BUCKET_CAPACITY = 1000
    settings.AI_BUCKET_REFILL_PER_SECOND = 1000
    return settings
