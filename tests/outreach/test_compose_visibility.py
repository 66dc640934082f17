"""Who wrote each e-mail, and why the template did: /metrics, dashboard, admin and API."""

import pytest
from django.urls import reverse

from outreach.compose import message_compose
from outreach.models import EmailMessage
from tests.api.conftest import ApiClient, api, api_key  # noqa: F401 - fixtures
from tests.factories import CampaignStepFactory, EnrollmentFactory
from tests.observability.conftest import clear_observability_keys

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("alerts_clean")]


@pytest.fixture
def composed(ai_settings, fake_grok):
    """Two e-mails by grok:1, one by the template after Grok and Claude failed."""
    clear_observability_keys()
    ai_settings.XAI_API_KEYS = ai_settings.XAI_API_KEYS[:1]
    step = CampaignStepFactory(order=1)
    messages = [
        message_compose(enrollment=EnrollmentFactory(campaign=step.campaign), step=step).message
        for _ in range(2)
    ]
    ai_settings.ANTHROPIC_API_KEY = ""
    fake_grok.behave("error")
    messages.append(
        message_compose(enrollment=EnrollmentFactory(campaign=step.campaign), step=step).message
    )
    return messages


def test_each_message_records_its_writer_and_the_templates_reason(composed):
    assert [(m.provider, m.fallback_reason) for m in composed] == [
        ("grok:1", ""),
        ("grok:1", ""),
        ("template", "providers_failed"),
    ]


def test_metrics_count_emails_by_writer_and_fallback_reason(composed, client):
    text = client.get("/metrics").content.decode()

    assert 'jengu_emails_composed_total{fallback="",provider="grok:1"} 2.0' in text
    assert (
        'jengu_emails_composed_total{fallback="providers_failed",provider="template"} 1.0' in text
    )
    assert "# HELP jengu_emails_composed_total E-mails composed, by who wrote them" in text


def test_the_dashboard_shows_the_share_of_each_writer(composed, admin_client):
    page = admin_client.get(reverse("crm:overview")).content.decode()

    assert 'data-writer="grok:1"><td>grok:1</td><td class="num">2</td>' in page
    assert "66.7%" in page and "33.3%" in page
    assert "(providers_failed 1)" in page


def test_the_api_message_resource_says_who_wrote_it(composed, api: ApiClient):  # noqa: F811
    template_message = composed[-1]

    item = api.get(f"/messages/{template_message.pk}").json()
    listed = api.get("/messages", campaign=template_message.campaign_id).json()["items"]

    assert (item["provider"], item["fallback_reason"], item["hold_reason"]) == (
        "template",
        "providers_failed",
        "",
    )
    assert {m["provider"] for m in listed} == {"grok:1", "template"}


def test_the_admin_lists_and_filters_messages_by_writer(composed, admin_client):
    url = reverse("admin:outreach_emailmessage_changelist")

    page = admin_client.get(url, {"provider": "template"}).content.decode()
    detail = admin_client.get(
        reverse("admin:outreach_emailmessage_change", args=[composed[-1].pk])
    ).content.decode()

    assert page.count('class="field-provider">template<') == 1
    assert 'class="field-provider">grok:1<' not in page
    assert "providers_failed" in detail


def test_the_review_queue_shows_why_a_draft_is_held(ai_settings, fake_grok, admin_client):
    fake_grok.behave(
        "ok", answer={"subject": "Hi", "body": "Hello Anna, call +1 555 010 0199 now. Sam"}
    )
    step = CampaignStepFactory(order=1)
    message_compose(enrollment=EnrollmentFactory(campaign=step.campaign), step=step)
    held = EmailMessage.objects.get()

    admin_page = admin_client.get(
        reverse("admin:outreach_pendingapproval_change", args=[held.pk])
    ).content.decode()
    dashboard_page = admin_client.get(reverse("crm:review")).content.decode()

    for page in (admin_page, dashboard_page):
        assert "phone number +1 555 010 0199" in page


def test_the_ai_calls_admin_shows_a_rate_limited_provider(ai_settings, fake_grok, admin_client):
    fake_grok.behave("rate_limit", retry_after=120)
    step = CampaignStepFactory(order=1)
    message_compose(enrollment=EnrollmentFactory(campaign=step.campaign), step=step)

    page = admin_client.get(reverse("admin:outreach_aicall_changelist")).content.decode()

    assert page.count("busy for 1") == 2  # grok:1 and grok:2, ~120 s each
    assert "<strong>closed</strong>" in page
