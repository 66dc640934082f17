"""Observability tests share one rule: every test starts with no jengu/dramatiq keys."""

from __future__ import annotations

import pytest

from jengu import metrics


def clear_observability_keys() -> None:
    client = metrics.redis_client()
    for pattern in ("jengu:*", "jengu-cache:*", "dramatiq:*"):
        keys = list(client.scan_iter(pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture(autouse=True)
def clean_redis():
    clear_observability_keys()
    yield
    clear_observability_keys()
