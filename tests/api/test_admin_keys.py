"""Admin: a key is shown once on creation and can be revoked; webhook secrets stay hidden."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from jengu.apikeys.keys import api_key_create
from jengu.apikeys.models import ApiKey, WebhookSubscription

pytestmark = pytest.mark.django_db


def test_adding_a_key_in_admin_shows_it_once_and_stores_its_hash(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:apikeys_apikey_add"),
        {"name": "CRM sync", "scopes": ["read", "prospects:write"]},
        follow=True,
    )
    assert response.status_code == 200
    [shown] = [str(m) for m in get_messages(response.wsgi_request) if "copy it now" in str(m)]
    key = shown.split(": ", 1)[1].split(" ", 1)[0]
    stored = ApiKey.objects.get()
    assert stored.scopes == ["read", "prospects:write"] and stored.name == "CRM sync"
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()


def test_revoke_action(admin_client) -> None:
    created = api_key_create(name="old")
    listing = admin_client.get(reverse("admin:apikeys_apikey_changelist"))
    assert created.api_key.prefix in listing.content.decode()
    assert created.key not in listing.content.decode()
    admin_client.post(
        reverse("admin:apikeys_apikey_changelist"),
        {"action": "revoke", "_selected_action": [created.api_key.pk]},
    )
    assert ApiKey.objects.get().revoked_at is not None


def test_webhook_secret_is_write_only_and_kept_when_left_blank(admin_client) -> None:
    url = reverse("admin:apikeys_webhooksubscription_add")
    data = {"url": "https://crm.example/hooks", "events": ["prospect.replied"], "active": "on"}
    response = admin_client.post(url, {**data, "secret": "whsec-1"})
    assert response.status_code == 302, response.content[:2000]
    subscription = WebhookSubscription.objects.get()
    change = reverse("admin:apikeys_webhooksubscription_change", args=[subscription.pk])
    assert "whsec-1" not in admin_client.get(change).content.decode()
    admin_client.post(change, {**data, "events": ["*"], "secret": ""})
    subscription.refresh_from_db()
    assert subscription.secret == "whsec-1" and subscription.events == ["*"]
