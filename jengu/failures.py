"""Which failures are worth retrying: the bottom of `jengu`, shared by every layer.

The bus retries by it, the Redis helpers' circuit breakers count by it, and every
app raises its exceptions (re-exported by `jengu.bus`). `classify(exc)` answers
"transient", "invalid_data" or "permanent". Only transient errors are retried; the
others go straight to the dead letters. Extend it with `register(SomeError,
PERMANENT)` or a callable `(exc) -> classification`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import httpx
import redis.exceptions
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DataError, InterfaceError, OperationalError
from dramatiq.errors import Retry
from dramatiq.middleware.time_limit import TimeLimitExceeded

Classification = Literal["transient", "invalid_data", "permanent"]
TRANSIENT: Classification = "transient"
INVALID_DATA: Classification = "invalid_data"
PERMANENT: Classification = "permanent"
CLASSIFICATIONS: tuple[Classification, ...] = (TRANSIENT, INVALID_DATA, PERMANENT)

Rule = Classification | Callable[[BaseException], Classification]


class TransientError(Exception):
    """Worth another try later: an outage, a timeout, a rate limit.

    `retry_after` (seconds), when known (HTTP 429 `Retry-After`), replaces the backoff.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidDataError(Exception):
    """The record itself is wrong (no address, malformed domain): retrying cannot help."""


class PermanentError(Exception):
    """The operation can never succeed as asked (rejected by the provider, bad config)."""


class CircuitOpenError(RuntimeError):
    """A call was refused because its breaker is open (the provider is resting)."""

    def __init__(self, name: str, retry_after: float | None = None) -> None:
        self.name = name
        self.retry_after = retry_after
        super().__init__(f"circuit {name!r} is open")


def _http_status(exc: BaseException) -> Classification:
    assert isinstance(exc, httpx.HTTPStatusError)
    status = exc.response.status_code
    # 408 timeout and 429 rate limit are the provider asking us to come back later.
    return TRANSIENT if status >= 500 or status in (408, 429) else PERMANENT


# Checked in order: put subclasses before their bases.
_RULES: list[tuple[type[BaseException], Rule]] = [
    (TransientError, TRANSIENT),
    (InvalidDataError, INVALID_DATA),
    (PermanentError, PERMANENT),
    (Retry, TRANSIENT),
    (TimeLimitExceeded, TRANSIENT),
    (CircuitOpenError, TRANSIENT),
    (httpx.HTTPStatusError, _http_status),
    (httpx.TransportError, TRANSIENT),
    (redis.exceptions.ConnectionError, TRANSIENT),
    (redis.exceptions.TimeoutError, TRANSIENT),
    (OperationalError, TRANSIENT),
    (InterfaceError, TRANSIENT),
    (ValidationError, INVALID_DATA),
    (ObjectDoesNotExist, INVALID_DATA),
    (DataError, INVALID_DATA),
    (TimeoutError, TRANSIENT),
    (ConnectionError, TRANSIENT),
    # Bugs in our code do not fix themselves between attempts.
    (TypeError, PERMANENT),
    (AttributeError, PERMANENT),
    (NameError, PERMANENT),
    (ImportError, PERMANENT),
    (NotImplementedError, PERMANENT),
]


def register(exc_type: type[BaseException], rule: Rule) -> None:
    """Classify `exc_type` (and subclasses) ahead of the built-in rules."""
    _RULES.insert(0, (exc_type, rule))


def classify(exc: BaseException) -> Classification:
    """Transient unless a rule says otherwise: an unknown failure gets its retries."""
    for exc_type, rule in _RULES:
        if isinstance(exc, exc_type):
            return rule(exc) if callable(rule) else rule
    return TRANSIENT
