"""Inboxes: secrets are write-only, warm-up status is in the payload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import Inbox
from crm.regions import inbox_region
from jengu.dns import StaticResolver
from tests.api.conftest import ApiClient
from tests.factories import InboxFactory

pytestmark = pytest.mark.django_db

NEW_INBOX = {
    "email": "Sales@Jengu.example",
    "display_name": "Jengu Sales",
    "smtp_host": "smtp.jengu.example",
    "smtp_username": "sales",
    "smtp_password": "s3cret-pass",
    "smtp_security": "tls",
    "smtp_port": 465,
    "daily_limit": 40,
}


def test_create_never_returns_the_password(api: ApiClient) -> None:
    response = api.post("/inboxes", NEW_INBOX)
    assert response.status_code == 201, response.content
    assert "s3cret-pass" not in response.content.decode()
    body = response.json()
    assert "smtp_password" not in body and body["has_smtp_password"] is True
    assert body["email"] == "sales@jengu.example"
    inbox = Inbox.objects.get()
    assert inbox.smtp_password == "s3cret-pass"
    with connection.cursor() as cursor:
        cursor.execute("SELECT smtp_password FROM crm_inbox")
        assert "s3cret-pass" not in cursor.fetchone()[0]


def test_warmup_status_in_payload(api: ApiClient) -> None:
    inbox = InboxFactory(warmup_start=timezone.now().date() - timedelta(days=2), daily_limit=50)
    warmup = api.get(f"/inboxes/{inbox.pk}").json()["warmup"]
    assert warmup["enabled"] is True
    assert warmup["day"] == 3
    assert warmup["cap_today"] == inbox.warmup_ramp[2]
    assert warmup["sent_today"] == 0


def test_patch_without_password_keeps_it(api: ApiClient) -> None:
    inbox_id = api.post("/inboxes", NEW_INBOX).json()["id"]
    response = api.patch(f"/inboxes/{inbox_id}", {"smtp_password": "", "daily_limit": 80})
    assert response.status_code == 200
    inbox = Inbox.objects.get()
    assert inbox.smtp_password == "s3cret-pass" and inbox.daily_limit == 80
    api.patch(f"/inboxes/{inbox_id}", {"smtp_password": "rotated"})
    assert Inbox.objects.get().smtp_password == "rotated"


def test_duplicate_address_is_a_409(api: ApiClient) -> None:
    api.post("/inboxes", NEW_INBOX)
    response = api.post("/inboxes", {**NEW_INBOX, "email": "sales@jengu.example"})
    assert response.status_code == 409


def test_smtp_inbox_without_host_is_a_422(api: ApiClient) -> None:
    response = api.post("/inboxes", {"email": "a@jengu.example"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "smtp_host"]


def test_list(api: ApiClient) -> None:
    first, second = InboxFactory(), InboxFactory()
    items = api.get("/inboxes").json()["items"]
    assert [item["id"] for item in items] == [second.pk, first.pk]


@pytest.fixture
def production_mail_hosts(settings):
    """The production default: no private network is a mail server's (the suite's
    settings allow loopback for its own fake servers)."""
    settings.MAIL_HOSTS_ALLOWED_NETWORKS = []


@pytest.mark.usefixtures("production_mail_hosts")
@pytest.mark.parametrize(
    ("field", "host"),
    [
        ("smtp_host", "127.0.0.1"),
        ("smtp_host", "169.254.169.254"),
        ("imap_host", "10.0.0.5"),
        ("imap_host", "[::1]"),
        ("smtp_host", "mail.internal.example"),
    ],
)
def test_a_mail_host_on_a_private_address_is_refused(api: ApiClient, settings, field, host):
    settings.ENRICHMENT_DNS_RESOLVER = StaticResolver({"mail.internal.example": ["192.168.1.9"]})

    response = api.post("/inboxes", {**NEW_INBOX, field: host})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]
    assert not Inbox.objects.exists()


@pytest.mark.usefixtures("production_mail_hosts")
def test_a_patch_cannot_point_an_inbox_at_a_private_address(api: ApiClient) -> None:
    inbox_id = api.post("/inboxes", NEW_INBOX).json()["id"]

    response = api.patch(f"/inboxes/{inbox_id}", {"smtp_host": "127.0.0.1", "smtp_port": 6379})

    assert response.status_code == 422
    assert Inbox.objects.get().smtp_host == "smtp.jengu.example"


def test_self_hosted_mail_servers_are_allowed_by_setting(api: ApiClient, settings) -> None:
    settings.MAIL_HOSTS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    allowed = api.post("/inboxes", {**NEW_INBOX, "smtp_host": "10.0.0.5"})
    other = api.post(
        "/inboxes", {**NEW_INBOX, "email": "b@jengu.example", "smtp_host": "127.0.0.1"}
    )

    assert allowed.status_code == 201
    assert other.status_code == 422


def test_an_existing_private_host_does_not_block_other_changes(api: ApiClient) -> None:
    inbox = InboxFactory(smtp_host="127.0.0.1")  # e.g. the local demo's mail sink

    response = api.patch(f"/inboxes/{inbox.pk}", {"display_name": "Renamed"})

    assert response.status_code == 200


@pytest.mark.usefixtures("two_regions")
def test_an_inbox_gets_a_home_region_through_the_api(api: ApiClient) -> None:
    created = api.post("/inboxes", {**NEW_INBOX, "region": "eu-west"})
    assert created.status_code == 201, created.content
    assert created.json()["region"] == "eu-west"

    refused = api.patch(f"/inboxes/{created.json()['id']}", {"region": "mars"})

    assert refused.status_code == 422
    assert "unknown region 'mars'; configured regions: us-east, eu-west" in refused.content.decode()
    assert Inbox.objects.get().region == "eu-west"
    blank = InboxFactory(region="")
    assert inbox_region(blank) == "us-east"
