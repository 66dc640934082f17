"""The provider interface the AI gateway talks to.

A provider turns a request (system text + prompt) into the model's answer text.
`Provider.attempt()` is the one guarded try: rate-limit hold, circuit breaker,
token bucket, the call under a total deadline, the answer's validation, and the
breaker updated with the outcome. Subclasses only say how to build the HTTP
request and where the text and token counts are in the response.

An attempt ends one of three ways: an answer, a failure (the provider is down,
refusing us or answering nonsense: the breaker counts it), or *busy* (our token
bucket is empty or the provider said 429): the provider is healthy and will take
the request in `busy_seconds`, so callers that can wait should.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from jengu.redis_helpers import CircuitBreaker, TokenBucket
from jengu.redis_helpers.breaker import HALF_OPEN
from outreach.ai.hold import ProviderHold
from outreach.ai.validation import InvalidAnswer


@dataclass(frozen=True)
class AIRequest:
    system: str
    prompt: str
    purpose: str = "compose"
    max_tokens: int = 800


@dataclass(frozen=True)
class Answer:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ProviderError(Exception):
    """A call that did not produce a usable answer; `error_class` names the kind."""

    error_class = "error"
    # Errors that say "this provider is down or refusing us": stop sending it traffic
    # at once instead of spending the breaker's threshold (and a timeout each) on it.
    opens_breaker_at_once = False


class ProviderTimeout(ProviderError):
    error_class = "timeout"
    opens_breaker_at_once = True


class ProviderConnectionError(ProviderError):
    error_class = "connection"


class ProviderHTTPError(ProviderError):
    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"HTTP {status} {detail}".strip())
        self.status = status
        self.error_class = f"http_{status // 100}xx"
        self.opens_breaker_at_once = status in (401, 403)


class ProviderRateLimited(ProviderError):
    error_class = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"HTTP 429, retry after {retry_after:g} s")
        self.retry_after = retry_after


@dataclass
class Attempt:
    """What one provider did with one request (`called` False = skipped, no request).

    `busy_seconds` is set when the provider is healthy but cannot take the request
    now (empty bucket, 429): how long until it can.
    """

    provider: str
    model: str
    called: bool
    success: bool = False
    result: Any = None
    error_class: str = ""
    error: str = ""
    latency_ms: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    busy_seconds: float | None = None
    extra: dict = field(default_factory=dict)

    def mark_busy(self, error_class: str, seconds: float) -> None:
        self.error_class, self.busy_seconds = error_class, seconds


_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    """One pooled client per process: TLS handshakes are not paid per e-mail."""
    global _client
    if _client is None:
        _client = httpx.Client(
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20)
        )
    return _client


def _retry_after_seconds(value: str | None) -> float:
    default = float(settings.AI_RATE_LIMIT_DEFAULT_SECONDS)
    try:
        seconds = float(value) if value else default
    except ValueError:  # an HTTP date: rare from APIs, the default is close enough
        seconds = default
    return max(1.0, min(seconds, float(settings.AI_RATE_LIMIT_MAX_SECONDS)))


def post_json(url: str, *, headers: dict, payload: dict, timeout: float) -> dict:
    """POST JSON and return the JSON answer, within `timeout` seconds in total.

    httpx timeouts apply per phase (connect, each read), so a server trickling
    bytes could outlast them; the body is streamed and the deadline checked
    between chunks.
    """
    deadline = time.monotonic() + timeout
    try:
        with http_client().stream(
            "POST", url, headers=headers, json=payload, timeout=timeout
        ) as response:
            chunks = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise ProviderTimeout(f"no complete answer within {timeout:g} s")
    except httpx.TimeoutException:
        raise ProviderTimeout(f"no complete answer within {timeout:g} s") from None
    except httpx.TransportError as exc:
        raise ProviderConnectionError(type(exc).__name__) from None
    if response.status_code == 429:
        raise ProviderRateLimited(_retry_after_seconds(response.headers.get("retry-after")))
    if response.status_code >= 400:
        raise ProviderHTTPError(
            response.status_code, b"".join(chunks)[:200].decode(errors="replace")
        )
    try:
        data = json.loads(b"".join(chunks))
    except ValueError:
        raise InvalidAnswer("response body is not JSON") from None
    if not isinstance(data, dict):
        raise InvalidAnswer("response body is not a JSON object")
    return data


class Provider(ABC):
    """Anything that can answer a request: the gateway tries these in order."""

    name: str
    model: str = ""

    @abstractmethod
    def attempt(self, request: AIRequest, parse: Callable[[str], Any]) -> Attempt:
        """One try; never raises for provider trouble, reports it in the Attempt."""


class RemoteProvider(Provider):
    """A model behind the network with one key: its own breaker and bucket, `ai:<name>`."""

    @abstractmethod
    def complete(self, request: AIRequest, *, timeout: float) -> Answer:
        """Call the model; raise ProviderError/InvalidAnswer when there is no answer."""

    def _breaker(self) -> CircuitBreaker:
        return CircuitBreaker(
            f"ai:{self.name}",
            failure_threshold=settings.AI_BREAKER_FAILURE_THRESHOLD,
            reset_timeout=settings.AI_BREAKER_RESET_SECONDS,
        )

    def _bucket(self) -> TokenBucket:
        return TokenBucket(
            f"ai:{self.name}",
            capacity=settings.AI_BUCKET_CAPACITY,
            refill_per_second=settings.AI_BUCKET_REFILL_PER_SECOND,
        )

    def _hold(self) -> ProviderHold:
        return ProviderHold(f"ai:{self.name}")

    def _admit(self, attempt: Attempt, breaker: CircuitBreaker) -> bool:
        """True when a request may go out; else `attempt` says why not.

        The breaker is asked before the bucket: a dead provider must read as
        failing, not as busy, even once its bucket is empty. The hold comes first
        so that a rate-limited provider does not use up a half-open probe.
        """
        if held := self._hold().remaining():
            attempt.mark_busy("rate_limited", held)
        elif not breaker.allow():
            attempt.error_class = "breaker_open"
        elif wait := self._bucket().try_take():
            attempt.mark_busy("bucket_empty", wait)
        else:
            return True
        return False

    def attempt(self, request: AIRequest, parse: Callable[[str], Any]) -> Attempt:
        """Hold, breaker, bucket, the call under a total deadline, parse, breaker updated."""
        attempt = Attempt(provider=self.name, model=self.model, called=False)
        breaker = self._breaker()
        if not self._admit(attempt, breaker):
            return attempt
        attempt.called = True
        started = time.monotonic()
        try:
            answer = self.complete(request, timeout=float(settings.AI_TIMEOUT_SECONDS))
            attempt.prompt_tokens = answer.prompt_tokens
            attempt.completion_tokens = answer.completion_tokens
            attempt.result = parse(answer.text)
        except ProviderRateLimited as exc:
            attempt.mark_busy(exc.error_class, exc.retry_after)
            attempt.error = str(exc)
            self._rate_limited(breaker, exc.retry_after)
        except (ProviderError, InvalidAnswer) as exc:
            attempt.error_class = exc.error_class
            attempt.error = str(exc)[:500]
            self._record_failure(breaker, exc)
        else:
            attempt.success = True
            breaker.record_success()
        attempt.latency_ms = int((time.monotonic() - started) * 1000)
        return attempt

    def _rate_limited(self, breaker: CircuitBreaker, retry_after: float) -> None:
        """A 429 is the provider answering "busy": hold it for `Retry-After`.

        It is no failure (the breaker's streak stays as it was). A half-open
        probe that got a 429 has shown the provider is up and our key accepted,
        so the breaker closes; the hold keeps traffic away until Retry-After.
        """
        self._hold().extend(retry_after)
        if breaker.state == HALF_OPEN:
            breaker.record_success()

    @staticmethod
    def _record_failure(breaker: CircuitBreaker, exc: Exception) -> None:
        if getattr(exc, "opens_breaker_at_once", False):
            breaker.open_for(settings.AI_BREAKER_RESET_SECONDS)
        else:
            breaker.record_failure()
