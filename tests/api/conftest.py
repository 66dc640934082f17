"""API test helpers: a key, and a client that sends it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from jengu.apikeys.keys import api_key_create
from jengu.redis_helpers import get_redis


class ApiClient:
    """Django's test client speaking JSON with an `X-API-Key` header."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.headers = {"X-API-Key": key} if key else {}

    def _send(self, method: str, path: str, body: Any = None, **params: Any):
        url = f"/api/v1{path}"
        call = getattr(self.client, method)
        if method in ("get", "delete"):
            return call(url, params, headers=self.headers)
        payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
        return call(url, payload, content_type="application/json", headers=self.headers)

    def get(self, path: str, **params: Any):
        return self._send("get", path, **params)

    def post(self, path: str, body: Any = None):
        return self._send("post", path, body)

    def patch(self, path: str, body: Any = None):
        return self._send("patch", path, body)

    def delete(self, path: str):
        return self._send("delete", path)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings) -> None:
    """Buckets live in Redis across runs; start every test with full ones."""
    settings.API_RATE_LIMIT_BURST = 10_000
    redis = get_redis()
    for name in redis.scan_iter("jengu:bucket:api-key:*"):
        redis.delete(name)


@pytest.fixture
def api_key(db) -> str:
    return api_key_create(name="tests").key


@pytest.fixture
def api(client: Client, api_key: str) -> ApiClient:
    return ApiClient(client, api_key)


@pytest.fixture
def read_only_api(client: Client, db) -> ApiClient:
    return ApiClient(client, api_key_create(name="reporting", read_only=True).key)


@pytest.fixture
def anonymous(client: Client) -> ApiClient:
    return ApiClient(client, None)
