"""POST /webhooks/inbound/raw: who may post, what is read before we know, and replays.

A stranger's request costs us its headers only: credentials are checked before a
byte of the body is read. A signed request is fresh (timestamp window), used once,
covers the provider's message id and the body's digest.
"""

from __future__ import annotations

import hashlib
import io
import time

import pytest
from django.core.handlers.wsgi import LimitedStream
from django.test import RequestFactory

from outreach.models import InboundEmail
from outreach.replies.webhooks import inbound_raw, signature_v1
from tests.outreach.replies_fixtures import eml

pytestmark = pytest.mark.django_db
SECRET = "inbound-shared-secret"
RAW_URL = "/webhooks/inbound/raw"


@pytest.fixture
def webhook_secret(settings, replay_memory_clean):
    settings.INBOUND_WEBHOOK_SECRET = SECRET
    settings.INBOUND_WEBHOOK_TOLERANCE_SECONDS = 300
    return SECRET


@pytest.fixture
def replay_memory_clean():
    from jengu.redis_helpers import get_redis

    client = get_redis()
    for key in client.scan_iter("jengu:inbound:signature:*"):
        client.delete(key)


def _post(client, raw: bytes, **headers):
    return client.post(RAW_URL, data=raw, content_type="message/rfc822", **headers)


def signed(raw: bytes, *, provider_id: str = "", at: float | None = None, secret: str = SECRET):
    """The headers an integrator sends (Django test-client spelling)."""
    timestamp = str(int(time.time() if at is None else at))
    digest = hashlib.sha256(raw).hexdigest()
    signature = signature_v1(
        secret=secret, timestamp=timestamp, provider_id=provider_id, content_sha256=digest
    )
    headers = {
        "HTTP_X_JENGU_TIMESTAMP": timestamp,
        "HTTP_X_JENGU_CONTENT_SHA256": digest,
        "HTTP_X_JENGU_SIGNATURE": f"v1={signature}",
    }
    if provider_id:
        headers["HTTP_X_PROVIDER_MESSAGE_ID"] = provider_id
    return headers


def test_a_bearer_token_stores_the_message(client, webhook_secret):
    raw = eml("german_meeting.eml")

    response = _post(client, raw, HTTP_AUTHORIZATION=f"Bearer {SECRET}")

    assert response.status_code == 202
    stored = InboundEmail.objects.get(pk=response.json()["id"])
    assert (stored.source, stored.status, bytes(stored.raw)) == ("webhook", "pending", raw)


def test_a_signed_request_stores_the_message(client, webhook_secret):
    raw = eml("spanish_interested.eml")

    response = _post(client, raw, **signed(raw, provider_id="esp-7"))

    assert response.status_code == 202
    assert InboundEmail.objects.get().provider_message_id == "raw:esp-7"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer not-the-secret"},
        {"HTTP_AUTHORIZATION": f"Basic {SECRET}"},
        {"HTTP_X_JENGU_SIGNATURE": "v1=" + "0" * 64, "HTTP_X_JENGU_TIMESTAMP": "1"},
    ],
)
def test_bad_credentials_are_refused_and_nothing_is_stored(client, webhook_secret, headers):
    response = _post(client, eml("gmail_interested.eml"), **headers)

    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong credentials"}
    assert not InboundEmail.objects.exists()


def test_a_replayed_signed_request_is_refused(client, webhook_secret):
    raw = eml("gmail_interested.eml").replace(b"Message-ID:", b"X-Old-Message-ID:")  # no dedup key
    headers = signed(raw)

    first = _post(client, raw, **headers)
    replay = _post(client, raw, **headers)

    assert (first.status_code, replay.status_code) == (202, 409)
    assert InboundEmail.objects.count() == 1


def test_an_old_signature_is_refused_even_if_never_seen(client, webhook_secret):
    raw = eml("gmail_interested.eml")

    stale = _post(client, raw, **signed(raw, at=time.time() - 301))
    future = _post(client, raw, **signed(raw, at=time.time() + 301))

    assert (stale.status_code, future.status_code) == (401, 401)
    assert "outside the 300 s window" in stale.json()["error"]
    assert not InboundEmail.objects.exists()


def test_the_provider_message_id_is_covered_by_the_signature(client, webhook_secret):
    raw = eml("gmail_interested.eml").replace(b"Message-ID:", b"X-Old-Message-ID:")
    headers = signed(raw, provider_id="esp-1")

    stored = _post(client, raw, **headers)
    relabelled = [
        _post(client, raw, **{**headers, "HTTP_X_PROVIDER_MESSAGE_ID": other})
        for other in ("esp-2", "esp-3")
    ]

    assert stored.status_code == 202
    assert [r.status_code for r in relabelled] == [401, 401]
    assert InboundEmail.objects.count() == 1  # one body is stored once, not three times


def test_a_body_that_does_not_match_its_signed_digest_is_refused(client, webhook_secret):
    raw = eml("gmail_interested.eml")
    headers = signed(raw)

    response = _post(client, raw.replace(b"interested", b"not keen on"), **headers)

    assert response.status_code == 401
    assert not InboundEmail.objects.exists()


def test_the_body_only_signature_of_old_is_refused_with_a_pointer(client, webhook_secret):
    response = _post(client, b"x", HTTP_X_JENGU_SIGNATURE="sha256=" + "a" * 64)

    assert response.status_code == 401
    assert "v1" in response.json()["error"]


class _CountingStream(io.BytesIO):
    """wsgi.input that remembers how many body bytes the view read."""

    bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        chunk = super().readline(size)
        self.bytes_read += len(chunk)
        return chunk


def _raw_request(body: bytes, **headers):
    stream = _CountingStream(body)
    request = RequestFactory().post(RAW_URL, data=b"", content_type="message/rfc822", **headers)
    request.META["wsgi.input"] = stream
    request.META["CONTENT_LENGTH"] = str(len(body))
    request._stream = LimitedStream(stream, len(body))  # what WSGIRequest reads the body from
    return request, stream


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_AUTHORIZATION": "Bearer not-the-secret"},
        {"HTTP_X_JENGU_SIGNATURE": "v1=" + "0" * 64, "HTTP_X_JENGU_TIMESTAMP": "1"},
    ],
)
def test_no_body_byte_is_read_before_the_caller_is_authenticated(webhook_secret, headers):
    body = b"X" * (5 * 1024 * 1024)  # a stranger's 5 MB
    request, stream = _raw_request(body, **headers)

    response = inbound_raw(request)

    assert response.status_code == 401
    assert stream.bytes_read == 0


def test_a_declared_length_over_the_limit_is_refused_unread(webhook_secret, settings):
    settings.INBOUND_MAX_BYTES = 1000
    request, stream = _raw_request(b"X" * 1001, HTTP_AUTHORIZATION=f"Bearer {SECRET}")

    response = inbound_raw(request)

    assert response.status_code == 413
    assert stream.bytes_read == 0


def test_the_endpoint_refuses_empty_and_unconfigured_requests(client, settings):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {SECRET}"}
    settings.INBOUND_WEBHOOK_SECRET = ""
    assert _post(client, b"x", **auth).status_code == 503
    settings.INBOUND_WEBHOOK_SECRET = SECRET
    assert _post(client, b"  \r\n", **auth).status_code == 400
    assert client.get(RAW_URL, **auth).status_code == 405
    assert not InboundEmail.objects.exists()


def test_the_senders_retry_is_idempotent_on_the_provider_message_id(client, webhook_secret):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {SECRET}", "HTTP_X_PROVIDER_MESSAGE_ID": "esp-42"}
    first = _post(client, eml("gmail_interested.eml"), **auth)
    retry = _post(client, eml("gmail_interested.eml"), **auth)

    assert first.json()["id"] == retry.json()["id"]
    assert InboundEmail.objects.get().provider_message_id == "raw:esp-42"


def test_malformed_mime_is_kept_for_the_dead_letter_path(client, webhook_secret):
    response = _post(client, eml("malformed_not_email.eml"), HTTP_AUTHORIZATION=f"Bearer {SECRET}")
    assert response.status_code == 202  # stored; processing will fail into dead letters
    assert bytes(InboundEmail.objects.get().raw) == eml("malformed_not_email.eml")


def test_an_authenticated_request_is_read_from_the_same_stream(webhook_secret):
    raw = eml("german_meeting.eml")
    request, stream = _raw_request(raw, HTTP_AUTHORIZATION=f"Bearer {SECRET}")

    response = inbound_raw(request)

    assert response.status_code == 202 and stream.bytes_read == len(raw)
