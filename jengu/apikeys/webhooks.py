"""Outbound webhooks: stages publish events; each subscriber gets a signed POST.

`webhooks_publish` writes one `WebhookDelivery` row per matching subscription and
emits `DeliverWebhook` on commit; the actor calls `webhook_deliver`, whose
transient failures (timeouts, 5xx, 429) the bus retries with backoff and whose
permanent ones (other 4xx) go straight to dead letters.

Receivers verify `X-Jengu-Signature: sha256=<hex>`, the HMAC-SHA256 with their
secret over `"<X-Jengu-Timestamp>.<raw body>"`, and reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jengu.apikeys.models import WebhookDelivery, WebhookSubscription
from jengu.apikeys.webhook_events import WEBHOOK_EVENTS
from jengu.bus import emit
from jengu.dns import get_resolver
from jengu.failures import PermanentError, TransientError
from jengu.netguard import (
    AddressPolicy,
    BlockedAddress,
    FetchError,
    GuardedTransport,
    deadline,
    host_refuse_private,
)
from jengu.redis_helpers import CircuitBreaker
from jengu.sql import fetch_rows

SIGNATURE_HEADER = "X-Jengu-Signature"
TIMESTAMP_HEADER = "X-Jengu-Timestamp"
RETRYABLE_STATUSES = frozenset({408, 425, 429})
WEBHOOK_SCHEMES = ("http", "https")


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def webhook_signature_verify(
    *, secret: str, timestamp: str, body: bytes, signature: str, tolerance_seconds: int = 300
) -> bool:
    """What a receiver does: check the MAC and refuse replays of old deliveries."""
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError:
        return False
    expected = webhook_signature(secret=secret, timestamp=timestamp, body=body)
    return age <= tolerance_seconds and hmac.compare_digest(expected, signature)


def _retry_options() -> dict[str, int]:
    """A receiver can be down for a deploy: retry longer than the track queue's default."""
    return {
        "max_retries": settings.WEBHOOK_MAX_RETRIES,
        "min_backoff": settings.WEBHOOK_RETRY_MIN_BACKOFF_MS,
        "max_backoff": settings.WEBHOOK_RETRY_MAX_BACKOFF_MS,
    }


# Plain SQL: every send and stage change publishes, mostly to nobody (jengu/sql.py).
_SUBSCRIBERS_SQL = f"""
SELECT id FROM {WebhookSubscription._meta.db_table}
WHERE active AND (%(event)s = ANY(events) OR '*' = ANY(events))
ORDER BY id DESC
"""  # noqa: S608 - table names from the models


def webhooks_publish(*, event: str, data: dict[str, Any]) -> list[WebhookDelivery]:
    """Queue `event` for every active subscription that wants it.

    Call it inside the transaction that made the change: the deliveries are
    written with it and sent only once it commits. `data` must be JSON-able
    (ids, strings, numbers, ISO dates).
    """
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}; add it to WEBHOOK_EVENTS first")
    deliveries = [
        WebhookDelivery(subscription_id=subscription_id, event=event, payload={})
        for (subscription_id,) in fetch_rows(_SUBSCRIBERS_SQL, {"event": event})
    ]
    # Stage changes and sends publish on every call: with no subscriber, no savepoint.
    if not deliveries:
        return []
    created_at = timezone.now().isoformat()
    for delivery in deliveries:
        delivery.payload = {
            "event": event,
            "delivery_id": str(delivery.delivery_id),
            "created_at": created_at,
            "data": data,
        }
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(deliveries)
        for delivery in deliveries:
            emit("DeliverWebhook", {"delivery_id": delivery.pk}, options=_retry_options())
    return deliveries


def _record_failure(delivery: WebhookDelivery, error: str, status: int | None = None) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.FAILED, response_status=status, error=error[:2000]
    )


def _post(delivery: WebhookDelivery) -> httpx.Response:
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Jengu-Webhooks/1",
        "X-Jengu-Event": delivery.event,
        "X-Jengu-Delivery": str(delivery.delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: webhook_signature(
            secret=delivery.subscription.secret, timestamp=timestamp, body=body
        ),
    }
    transport = GuardedTransport(resolver=get_resolver(), policy=webhook_address_policy())
    # One deadline for the whole exchange (a receiver that drips its answer cannot hold
    # a worker), and the receiver's body is never read: only its status line counts.
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    with (
        deadline(time.monotonic() + timeout),
        httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client,
        client.stream("POST", delivery.subscription.url, content=body, headers=headers) as answer,
    ):
        return answer


def webhook_address_policy() -> AddressPolicy:
    return AddressPolicy.build(
        allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
        allowed_networks=settings.WEBHOOK_ALLOWED_NETWORKS,
    )


def webhook_url_check(url: str) -> None:
    """Raise ValueError unless `url` is http(s) to a host the policy allows.

    Checked when a subscription is saved, and again by the transport at every
    connection (a name can be re-pointed after it was saved).
    """
    parsed = urlsplit(url)
    if parsed.scheme not in WEBHOOK_SCHEMES or not parsed.hostname:
        raise ValueError("use an http:// or https:// URL")
    try:
        host_refuse_private(
            parsed.hostname, resolver=get_resolver(), policy=webhook_address_policy()
        )
    except BlockedAddress as exc:
        raise ValueError(
            f"{exc.detail}: webhooks go to public addresses only "
            "(WEBHOOK_ALLOWED_NETWORKS lets a private network through)"
        ) from None


def webhook_deliver(*, delivery_id: int) -> WebhookDelivery | None:
    """POST one delivery; idempotent (a delivered row is not sent again).

    Raises TransientError to be retried later, PermanentError when the receiver
    refuses the delivery for good.
    """
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == WebhookDelivery.Status.DELIVERED:
        return delivery
    if not delivery.subscription.active:
        _record_failure(delivery, "subscription is inactive")
        return delivery
    breaker = CircuitBreaker(f"webhook:{delivery.subscription_id}")
    if not breaker.allow():
        raise TransientError(f"webhook {delivery.subscription_id}: breaker open")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1)
    try:
        webhook_url_check(delivery.subscription.url)
        response = _post(delivery)
    except (ValueError, BlockedAddress) as exc:
        _record_failure(delivery, f"refused: {exc}")
        raise PermanentError(f"webhook {delivery.pk}: {exc}") from exc
    except FetchError as exc:  # DNS: the name may resolve again later
        breaker.record_failure()
        _record_failure(delivery, str(exc))
        raise TransientError(f"webhook {delivery.pk}: {exc.reason}") from exc
    except httpx.HTTPError as exc:
        breaker.record_failure()
        _record_failure(delivery, f"{type(exc).__name__}: {exc}")
        raise TransientError(f"webhook {delivery.pk}: {type(exc).__name__}") from exc
    if response.is_success:
        breaker.record_success()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.DELIVERED,
            response_status=response.status_code,
            error="",
            delivered_at=timezone.now(),
        )
        delivery.status = WebhookDelivery.Status.DELIVERED
        return delivery
    # The receiver's body is not kept: an admin page must not become a way to read
    # what some server answered.
    _record_failure(
        delivery, f"HTTP {response.status_code} {response.reason_phrase}", response.status_code
    )
    if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
        breaker.record_failure()
        raise TransientError(f"webhook {delivery.pk}: HTTP {response.status_code}")
    raise PermanentError(f"webhook {delivery.pk}: receiver answered HTTP {response.status_code}")
