"""A 500 reaches Sentry without the inbox secrets that were in its request and locals.

Sentry is initialised with our real options and a transport that keeps the envelopes
it would send, then real requests fail: an inbox whose stored password can no longer
be decrypted (its key was removed) breaks both the API and the admin form.
"""

from __future__ import annotations

import json

import pytest
import sentry_sdk
from django.db import connection
from django.test import Client
from django.urls import reverse
from sentry_sdk.transport import Transport

from jengu.apikeys.keys import api_key_create
from jengu.logs import sentry_options
from jengu.scrubbing import scrub_text
from outreach.sending.admin import InboxAdmin
from tests.factories import InboxFactory
from tests.roles import role_user

pytestmark = pytest.mark.django_db

SECRETS = {
    "smtp_password": "smtp-hunter2-secret",
    "imap_password": "imap-hunter2-secret",
    "resend_api_key": "re_hunter2_secret_key",
}


class CapturingTransport(Transport):
    """Keeps every envelope instead of sending it."""

    def __init__(self, options=None) -> None:
        super().__init__(options)
        self.envelopes: list = []

    def capture_envelope(self, envelope) -> None:
        self.envelopes.append(envelope)


@pytest.fixture
def sentry():
    transport = CapturingTransport()
    sentry_sdk.init(**sentry_options("https://public@sentry.invalid/1"), transport=transport)
    yield transport
    sentry_sdk.init()  # no DSN: a disabled client for the rest of the run


def sent_events(transport: CapturingTransport) -> list[str]:
    sentry_sdk.flush()
    return [
        json.dumps(item.payload.json)
        for envelope in transport.envelopes
        for item in envelope.items
        if item.type == "event"
    ]


@pytest.fixture
def broken_inbox():
    """An inbox whose stored password no key can decrypt any more."""
    inbox = InboxFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE crm_inbox SET smtp_password = 'gAAAAAnot-a-token' WHERE id = %s", [inbox.pk]
        )
    return inbox


def test_an_api_500_reaches_sentry_without_the_secrets(sentry, client, broken_inbox):
    key = api_key_create(name="ops").key

    response = client.patch(
        f"/api/v1/inboxes/{broken_inbox.pk}",
        json.dumps(SECRETS),
        content_type="application/json",
        headers={"X-API-Key": key},
    )

    assert response.status_code == 500
    events = sent_events(sentry)
    assert events, "the error reached Sentry"
    assert '"vars"' in events[0], "frame locals were sent (and scrubbed)"
    for event in events:
        for secret in (*SECRETS.values(), key):
            assert secret not in event


def test_an_admin_500_reaches_sentry_without_the_posted_secrets(sentry, monkeypatch):
    # Any failure while saving will do; what matters is the posted form in the event.
    def disk_full(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(InboxAdmin, "save_model", disk_full)
    client = Client(raise_request_exception=False)
    client.force_login(role_user("Operator", staff=True))
    form = {
        "email": "ana@hotel.example",
        "transport": "smtp",
        "smtp_host": "smtp.hotel.example",
        "smtp_port": 587,
        "smtp_security": "starttls",
        "imap_port": 993,
        "imap_security": "tls",
        "imap_folder": "INBOX",
        "daily_limit": 40,
        "warmup_start": "2026-01-01",
        "warmup_ramp": "[5, 10, 15]",
        "min_gap_seconds": 120,
        **SECRETS,
    }

    response = client.post(reverse("admin:crm_inbox_add"), form)

    assert response.status_code == 500, response.content[:1500]
    events = sent_events(sentry)
    assert events
    assert "smtp_password" in events[0], "the request's form data was sent (and scrubbed)"
    for event in events:
        for secret in SECRETS.values():
            assert secret not in event


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("InboxIn(email='a@b.example', smtp_password='pw 1', daily_limit=5)", "daily_limit=5"),
        ("<QueryDict: {'imap_password': ['pw'], 'email': ['a@b.example']}>", "a@b.example"),
        ('{"resend_api_key": "re_1", "transport": "resend"}', '"transport": "resend"'),
        ("smtp_password=pw&email=a", "email=a"),
        ("key jk_abcdefghijklmnopqrstuvwxyz0123 used", "used"),
    ],
)
def test_secrets_inside_text_are_filtered_and_the_rest_kept(text, kept):
    scrubbed = scrub_text(text)

    assert "[Filtered]" in scrubbed
    assert kept in scrubbed
    assert "pw" not in scrubbed.replace("password", "")
    assert "re_1" not in scrubbed and "jk_abc" not in scrubbed
