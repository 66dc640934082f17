"""Inbound mail over HTTP: a raw RFC 822 POST, and django-anymail's inbound signal.

POST /webhooks/inbound/raw takes the message bytes as the body. The caller proves
it holds INBOUND_WEBHOOK_SECRET before a single byte of the body is read, in one
of two ways:

- `Authorization: Bearer <secret>`;
- a signed request (replays refused): `X-Jengu-Timestamp: <unix seconds>`,
  `X-Jengu-Content-SHA256: <hex SHA-256 of the body>` and `X-Jengu-Signature:
  v1=<hex HMAC-SHA256(secret, "<timestamp>.<X-Provider-Message-Id>.<content sha256>")>`.
  The timestamp must be within INBOUND_WEBHOOK_TOLERANCE_SECONDS of our clock, a
  signature is accepted once, and the body must match its signed digest.

An optional `X-Provider-Message-Id` (signed too) makes the sender's retries
idempotent. The body is read only up to its declared Content-Length, which must
not exceed INBOUND_MAX_BYTES.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

import redis
from anymail.signals import inbound
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from jengu.redis_helpers import get_redis
from outreach.models import InboundEmail
from outreach.replies.services import inbound_store

logger = logging.getLogger(__name__)

SIGNATURE_VERSION = "v1"
REPLAY_PREFIX = "jengu:inbound:signature:"


class RequestRefused(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Credentials:
    signature: str = ""  # set for a signed request: its replay key
    content_sha256: str = ""


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _declared_length(request: HttpRequest) -> int:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        raise RequestRefused("Content-Length is required", 411) from None
    limit = settings.INBOUND_MAX_BYTES
    if length > limit:
        raise RequestRefused(f"message larger than {limit} bytes", 413)
    return length


def signature_v1(*, secret: str, timestamp: str, provider_id: str, content_sha256: str) -> str:
    """The hex HMAC a signed request carries (what an integrator computes)."""
    signed = f"{timestamp}.{provider_id}.{content_sha256}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _authenticate(request: HttpRequest, secret: str, provider_id: str) -> Credentials:
    """Check the credentials from the headers alone: no body byte is read before this."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        if hmac.compare_digest(token.strip().encode(), secret.encode()):
            return Credentials()
        raise RequestRefused("missing or wrong credentials", 401)
    version, _, given = request.headers.get("X-Jengu-Signature", "").strip().partition("=")
    if version == "sha256":
        raise RequestRefused("unsigned timestamp: sign requests with v1 (see docs/replies.md)", 401)
    timestamp = request.headers.get("X-Jengu-Timestamp", "").strip()
    digest = request.headers.get("X-Jengu-Content-SHA256", "").strip().lower()
    if version != SIGNATURE_VERSION or not given or not timestamp or len(digest) != 64:
        raise RequestRefused("missing or wrong credentials", 401)
    expected = signature_v1(
        secret=secret, timestamp=timestamp, provider_id=provider_id, content_sha256=digest
    )
    if not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
        raise RequestRefused("missing or wrong credentials", 401)
    _check_fresh(timestamp)
    return Credentials(signature=expected, content_sha256=digest)


def _check_fresh(timestamp: str) -> None:
    tolerance = settings.INBOUND_WEBHOOK_TOLERANCE_SECONDS
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        raise RequestRefused("X-Jengu-Timestamp must be Unix seconds", 401) from None
    if age > tolerance:
        raise RequestRefused(f"signature timestamp outside the {tolerance} s window", 401)


def _first_use(signature: str) -> bool:
    """Remember a signature for twice the window; False when it was seen before."""
    ttl = 2 * settings.INBOUND_WEBHOOK_TOLERANCE_SECONDS
    try:
        return bool(get_redis().set(REPLAY_PREFIX + signature, 1, nx=True, ex=ttl))
    except redis.RedisError as exc:
        # The timestamp window still bounds a replay; losing inbound mail would be worse.
        logger.warning("inbound webhook replay check skipped: %s", type(exc).__name__)
        return True


def _body(request: HttpRequest, length: int, credentials: Credentials) -> bytes:
    # request.read, not request.body: body caps at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB),
    # and mail with attachments is often larger.
    body = request.read(length)
    digest = credentials.content_sha256
    if digest and not hmac.compare_digest(hashlib.sha256(body).hexdigest(), digest):
        raise RequestRefused("the body does not match X-Jengu-Content-SHA256", 401)
    if not body.strip():
        raise RequestRefused("empty body: POST the raw RFC 822 message", 400)
    return body


@csrf_exempt
@require_POST
def inbound_raw(request: HttpRequest) -> JsonResponse:
    secret = settings.INBOUND_WEBHOOK_SECRET
    if not secret:
        return _error("inbound webhook is off: INBOUND_WEBHOOK_SECRET is not set", 503)
    provider_id = request.headers.get("X-Provider-Message-Id", "").strip()[:200]
    try:
        length = _declared_length(request)
        credentials = _authenticate(request, secret, provider_id)
        if credentials.signature and not _first_use(credentials.signature):
            raise RequestRefused("this signed request was already received (replay)", 409)
        body = _body(request, length, credentials)
    except RequestRefused as refused:
        return _error(str(refused), refused.status)
    stored = inbound_store(
        raw=body,
        source=InboundEmail.Source.WEBHOOK,
        provider_message_id=f"raw:{provider_id}" if provider_id else None,
    )
    return JsonResponse({"id": stored.pk, "status": stored.status}, status=202)


@receiver(inbound, dispatch_uid="jengu.replies.anymail_inbound")
def anymail_inbound(sender: object, event: object, esp_name: str, **kwargs: object) -> None:
    """An ESP's inbound webhook (via django-anymail): keep the message as raw bytes.

    Without ANYMAIL["WEBHOOK_SECRET"] anymail accepts unauthenticated posts (with a
    warning); anyone could then stop sequences with fake replies, so nothing is stored.
    """
    if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        logger.warning("inbound from %s dropped: ANYMAIL_WEBHOOK_SECRET is not set", esp_name)
        return
    message = event.message
    event_id = getattr(event, "event_id", None)
    inbound_store(
        raw=message.as_bytes(),
        source=InboundEmail.Source.WEBHOOK,
        provider_message_id=f"{esp_name.lower()}:{event_id}" if event_id else None,
    )
