"""Request checks for /api/v1/: body size, API key, read-only keys, per-key rate limit."""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.security import APIKeyHeader
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

from jengu.apikeys.keys import api_key_authenticate
from jengu.apikeys.models import ApiKey
from jengu.redis_helpers import TokenBucket

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _check_body_size(request: HttpRequest) -> None:
    """Refuse an oversized body from its Content-Length, before anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise HttpError(400, "Content-Length is not a number") from None
    if length > settings.API_MAX_BODY_BYTES:
        raise HttpError(413, f"request body is larger than {settings.API_MAX_BODY_BYTES} bytes")


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: <key>`; 401 without a valid key, 403 for a read-only key's writes."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey:
        _check_body_size(request)
        api_key = api_key_authenticate(key=key) if key else None
        if api_key is None:
            raise AuthenticationError(message="missing, invalid or revoked API key (X-API-Key)")
        if api_key.read_only and request.method not in SAFE_METHODS:
            raise AuthorizationError(message="this API key is read-only")
        return api_key


class ApiKeyRateThrottle(BaseThrottle):
    """A Redis token bucket per API key, shared by every web process."""

    def allow_request(self, request: HttpRequest) -> bool:
        api_key: ApiKey = request.auth  # type: ignore[attr-defined]
        bucket = TokenBucket(
            f"api-key:{api_key.pk}",
            capacity=settings.API_RATE_LIMIT_BURST,
            refill_per_second=settings.API_RATE_LIMIT_PER_SECOND,
        )
        try:
            return bucket.try_acquire()
        except RedisError:
            # The limit protects us from floods; Redis being down must not take the
            # API down with it, so let the request through and say so.
            logger.warning("API rate limit skipped: Redis unavailable", exc_info=True)
            return True

    def wait(self) -> float:
        return math.ceil(1 / settings.API_RATE_LIMIT_PER_SECOND)
