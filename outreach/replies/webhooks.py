"""Inbound mail over HTTP: a raw RFC 822 POST, and django-anymail's inbound signal.

POST /webhooks/inbound/raw takes the message bytes as the body, authenticated by
`INBOUND_WEBHOOK_SECRET`, either as `Authorization: Bearer <secret>` or as an
HMAC-SHA256 of the body in `X-Jengu-Signature: sha256=<hex>`. An optional
`X-Provider-Message-Id` header makes retries by the sender idempotent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from anymail.signals import inbound
from django.conf import settings
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from outreach.models import InboundEmail
from outreach.replies.services import inbound_store

logger = logging.getLogger(__name__)


def _authorized(request: HttpRequest, body: bytes, secret: str) -> bool:
    """Bearer token or body signature, each compared in constant time."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return hmac.compare_digest(token.strip().encode(), secret.encode())
    signature = request.headers.get("X-Jengu-Signature", "").removeprefix("sha256=").strip()
    if signature:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.lower().encode(), expected.encode())
    return False


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def inbound_raw(request: HttpRequest) -> JsonResponse:
    secret = settings.INBOUND_WEBHOOK_SECRET
    if not secret:
        return _error("inbound webhook is off: INBOUND_WEBHOOK_SECRET is not set", 503)
    limit = settings.INBOUND_MAX_BYTES
    # request.read, not request.body: body caps at DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB),
    # and mail with attachments is often larger.
    body = request.read(limit + 1)
    if len(body) > limit:
        return _error(f"message larger than {limit} bytes", 413)
    if not _authorized(request, body, secret):
        return _error("missing or wrong credentials", 401)
    if not body.strip():
        return _error("empty body: POST the raw RFC 822 message", 400)
    provider_id = request.headers.get("X-Provider-Message-Id", "").strip()[:200]
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
