"""Fixtures for the AI gateway and composer tests: fake providers wired into settings."""

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection

from jengu.events.models import Event
from jengu.redis_helpers import get_redis
from outreach import tasks  # noqa: F401 - declares ComposeEmail and SendEmail
from tests.fakes.llm import fake_claude, fake_grok  # noqa: F401 - fixtures
from tests.outreach.replies_fixtures import alerts_clean, contact, our_inbox  # noqa: F401
from tests.outreach.sending_fixtures import (  # noqa: F401 - fixtures
    sending_settings,
    sending_state_clean,
    smtp_sink,
    start_worker,
)
from tests.own_redis import on_own_redis, own_redis  # noqa: F401 - fixtures

T = TypeVar("T")
GROK_KEYS = ["grok-key-1", "grok-key-2"]
CLAUDE_KEY = "claude-key"


@pytest.fixture
def ai_state_clean():
    """Start with every AI breaker closed, every AI bucket full and no provider on hold."""
    client = get_redis()
    for pattern in ("jengu:breaker:ai:*", "jengu:bucket:ai:*", "jengu:hold:ai:*"):
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
    # Generous for a loaded CI machine; the hanging-provider tests shorten it.
    settings.AI_TIMEOUT_SECONDS = 5
    settings.AI_BREAKER_FAILURE_THRESHOLD = 3
    settings.AI_BREAKER_RESET_SECONDS = 60
    settings.AI_BUCKET_CAPACITY = 1000
    settings.AI_BUCKET_REFILL_PER_SECOND = 1000
    return settings


def send_email_events() -> list[dict]:
    """Payloads of the SendEmail events emitted so far (from the event log)."""
    return list(
        Event.objects.filter(type="SendEmail").order_by("id").values_list("payload", flat=True)
    )


def in_threads(count: int, call: Callable[[], T]) -> list[T]:
    """Run `call` in `count` threads released together; their results (each closes its DB)."""
    start, results = threading.Barrier(count), []

    def worker() -> None:
        start.wait()
        try:
            results.append(call())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
