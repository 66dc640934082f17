"""Request checks for /api/v1/: body size, API key, its scopes, per-key rate limit."""

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
from jengu.apikeys.scopes import READ
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


def scope_require(request: HttpRequest, scope: str) -> None:
    """403 unless the request's key has `scope` (for checks that depend on the body)."""
    api_key: ApiKey = request.auth  # type: ignore[attr-defined]
    if not api_key.allows(scope):
        if api_key.read_only:
            raise AuthorizationError(message="this API key is read-only")
        raise AuthorizationError(message=f"this API key lacks the {scope!r} scope")


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: <key>`; 401 without a valid key, 403 without the scope needed.

    Reads (GET, HEAD, OPTIONS) need `read`; writes need `write_scope`, the scope of
    the routes this instance guards. Without one, the routes are read-only.
    """

    param_name = "X-API-Key"

    def __init__(self, write_scope: str | None = None) -> None:
        super().__init__()
        self.write_scope = write_scope

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey:
        _check_body_size(request)
        api_key = api_key_authenticate(key=key) if key else None
        if api_key is None:
            raise AuthenticationError(message="missing, invalid or revoked API key (X-API-Key)")
        request.auth = api_key  # scope_require reads it before ninja sets it
        if request.method in SAFE_METHODS:
            scope_require(request, READ)
        elif self.write_scope is None:
            raise AuthorizationError(message="this endpoint is read-only")
        else:
            scope_require(request, self.write_scope)
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
