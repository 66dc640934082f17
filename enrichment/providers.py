"""Base for enrichment's HTTP providers (search, MillionVerifier).

One place owns what every provider call needs: a timeout, a circuit breaker shared
by all workers, and a token bucket for the provider's rate limit. A provider that
is down, rate-limited or slow raises `ProviderUnavailable`; callers degrade (local
verdict, no search) instead of failing the prospect. API keys travel in requests
only and never appear in errors or logs.
"""

from __future__ import annotations

import logging

import httpx

from jengu.redis_helpers import CircuitBreaker, TokenBucket

logger = logging.getLogger(__name__)


class ProviderUnavailable(Exception):
    """The provider could not answer now (breaker open, rate limit, 5xx, timeout)."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason


class ProviderRejected(Exception):
    """The provider answered, but refused this request (4xx other than 429)."""


class Provider:
    name = "provider"
    timeout = httpx.Timeout(10.0, connect=5.0)
    bucket_wait = 2.0  # seconds a call may wait for a token before giving up

    def __init__(self, *, base_url: str, api_key: str, rate_per_second: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.breaker = CircuitBreaker(
            f"provider:{self.name}", failure_threshold=3, reset_timeout=60
        )
        self.bucket = TokenBucket(
            f"provider:{self.name}",
            capacity=max(1, int(rate_per_second)),
            refill_per_second=rate_per_second,
        )

    def get(self, path: str, *, params: dict, headers: dict | None = None) -> httpx.Response:
        """GET through breaker and bucket; returns only 2xx responses."""
        if not self.breaker.allow():
            raise ProviderUnavailable(self.name, "circuit open")
        if not self.bucket.acquire(max_wait=self.bucket_wait):
            raise ProviderUnavailable(self.name, "rate limit (local token bucket)")
        try:
            response = httpx.get(
                f"{self.base_url}{path}", params=params, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            self.breaker.record_failure()
            raise ProviderUnavailable(self.name, "timeout") from exc
        except httpx.HTTPError as exc:
            self.breaker.record_failure()
            raise ProviderUnavailable(self.name, f"connection: {type(exc).__name__}") from exc
        return self._checked(response)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status == 429:
            retry_after = _seconds(response.headers.get("retry-after"))
            if retry_after:
                self.breaker.open_for(min(retry_after, 600))
            else:
                self.breaker.record_failure()
            raise ProviderUnavailable(self.name, "429 rate limited")
        if status >= 500:
            self.breaker.record_failure()
            raise ProviderUnavailable(self.name, f"HTTP {status}")
        self.breaker.record_success()
        if status >= 400:
            raise ProviderRejected(f"{self.name}: HTTP {status}")
        return response


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
