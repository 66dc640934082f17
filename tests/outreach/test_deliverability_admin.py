"""Deliverability in the admin: the inbox page shows checks and fixes, the override goes
through the logged service, secrets stay write-only."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from jengu.events.models import Event
from outreach.deliverability.auth import inbox_auth_check
from outreach.deliverability_models import DeliverabilityLog, InboxDeliverability, SeedMailbox
from tests.factories import InboxFactory
from tests.outreach.deliverability_fixtures import SELECTOR, good_zone, resolver_for, signing_key

pytestmark = pytest.mark.django_db
DOMAIN = "jengu.example"


@pytest.fixture
def row(settings):
    settings.DELIVERABILITY_MTA_STS_CHECK = False
    settings.ENRICHMENT_DNS_RESOLVER = resolver_for(good_zone(DOMAIN, **{"": []}))
    inbox = InboxFactory(email=f"sales@{DOMAIN}", smtp_host="relay.test")
    InboxDeliverability.objects.create(
        inbox=inbox, dkim_selector=SELECTOR, dkim_private_key=signing_key()
    )
    return inbox_auth_check(inbox=inbox)


@pytest.mark.parametrize(
    "name",
    [
        "outreach_inboxdeliverability",
        "outreach_seedmailbox",
        "outreach_placementtest",
        "outreach_deliverabilitylog",
        "outreach_campaignoptimisation",
        "outreach_variantpromotion",
    ],
)
def test_every_deliverability_list_loads(admin_client, row, name):
    assert admin_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_the_inbox_page_shows_its_checks_and_fixes(admin_client, row):
    page = admin_client.get(reverse("admin:crm_inbox_change", args=[row.inbox_id]))

    html = page.content.decode()
    assert 'id="inbox-deliverability"' in html
    assert f"Publish one TXT record at {DOMAIN}" in html
    assert "DKIM aligned: yes" in html


def test_the_private_key_is_never_shown_and_a_blank_keeps_it(admin_client, row):
    url = reverse("admin:outreach_inboxdeliverability_change", args=[row.pk])
    assert "PRIVATE KEY" not in admin_client.get(url).content.decode()

    response = admin_client.post(
        url,
        {
            "inbox": row.inbox_id,
            "provider_preset": "generic_smtp",
            "dkim_selector": SELECTOR,
            "dkim_private_key": "",
            "auth_override": "on",
            "auth_override_note": "checked by hand",
        },
    )

    assert response.status_code == 302
    row.refresh_from_db()
    assert row.dkim_private_key == signing_key()
    assert row.auth_override and row.auth_override_by == "user:admin"
    assert DeliverabilityLog.objects.filter(kind="override_set", actor="user:admin").exists()


def test_an_override_without_a_reason_is_refused(admin_client, row):
    url = reverse("admin:outreach_inboxdeliverability_change", args=[row.pk])
    response = admin_client.post(
        url,
        {"inbox": row.inbox_id, "provider_preset": "generic_smtp", "auth_override": "on"},
    )

    assert response.status_code == 200
    assert "Say why the checks may be ignored" in response.content.decode()


def test_check_now_queues_one_check_per_selected_inbox(admin_client, row):
    admin_client.post(
        reverse("admin:outreach_inboxdeliverability_changelist"),
        {"action": "check_now", ACTION_CHECKBOX_NAME: [row.pk]},
    )

    assert Event.objects.filter(type="CheckInboxAuth").count() == 1


def test_a_seed_password_is_write_only(admin_client):
    seed = SeedMailbox.objects.create(
        email="seed@gmail.test", imap_host="imap.gmail.com", imap_username="s", imap_password="pw1"
    )
    url = reverse("admin:outreach_seedmailbox_change", args=[seed.pk])

    assert "pw1" not in admin_client.get(url).content.decode()


def test_a_seed_on_a_private_address_is_refused(admin_client, settings):
    settings.MAIL_HOSTS_ALLOWED_NETWORKS = []  # production's default; the suite allows loopback
    response = admin_client.post(
        reverse("admin:outreach_seedmailbox_add"),
        {
            "email": "seed@gmail.test",
            "provider": "gmail",
            "active": "on",
            "imap_host": "127.0.0.1",
            "imap_port": 993,
            "imap_security": "tls",
            "imap_username": "seed",
            "inbox_folders": "[]",
            "spam_folders": "[]",
        },
    )

    assert response.status_code == 200
    assert "MAIL_HOSTS_ALLOWED_NETWORKS" in response.content.decode()
    assert not SeedMailbox.objects.exists()
