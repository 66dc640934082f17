"""The operator's admin: lists load, secrets stay hidden, actions call services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.urls import reverse

from crm.models import Campaign, Enrollment, Inbox, Stage
from outreach.models import Suppression
from tests.bulk_data import prospects_generate
from tests.factories import CampaignFactory, InboxFactory, ProspectFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_client):
    return admin_client


@pytest.mark.parametrize(
    "name",
    [
        "crm_prospect",
        "crm_inbox",
        "crm_campaign",
        "crm_enrollment",
        "crm_stagechange",
        "outreach_emailmessage",
        "outreach_suppression",
    ],
)
def test_every_changelist_and_add_page_loads(staff, name):
    ProspectFactory.create_batch(3)
    assert staff.get(reverse(f"admin:{name}_changelist")).status_code == 200


def test_prospect_changelist_filters_and_searches(staff):
    ProspectFactory(business_name="Casa Azul", stage=Stage.READY)
    ProspectFactory(business_name="Villa Rosa", stage=Stage.NEW)

    response = staff.get(reverse("admin:crm_prospect_changelist"), {"stage": "ready", "q": "azul"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Casa Azul" in page and "Villa Rosa" not in page


def test_prospect_change_page_shows_inlines(staff):
    prospect = ProspectFactory()
    Enrollment.objects.create(prospect=prospect, campaign=CampaignFactory(name="Spring"))
    response = staff.get(reverse("admin:crm_prospect_change", args=[prospect.pk]))
    assert response.status_code == 200
    assert "Spring" in response.content.decode()


def inbox_form(**fields: str) -> dict[str, str]:
    """The inbox admin form's POST data: a valid SMTP inbox, `fields` on top."""
    return {
        "transport": "smtp",
        "active": "on",
        "smtp_host": "smtp.jengu.example",
        "smtp_port": "2525",
        "smtp_security": "none",
        "imap_port": "993",
        "imap_security": "tls",
        "imap_folder": "INBOX",
        "daily_limit": "30",
        "warmup_start": "2026-01-01",
        "warmup_ramp": "[5, 10]",
        "min_gap_seconds": "60",
        **fields,
    }


def test_inbox_password_is_never_rendered_and_blank_keeps_it(staff):
    inbox = InboxFactory(smtp_password="s3cret-value")
    url = reverse("admin:crm_inbox_change", args=[inbox.pk])

    page = staff.get(url).content.decode()
    assert "s3cret-value" not in page

    form = inbox_form(email=inbox.email, display_name="Renamed", smtp_password="")
    response = staff.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    inbox.refresh_from_db()
    assert inbox.display_name == "Renamed"
    assert inbox.smtp_password == "s3cret-value"


def test_enroll_action_asks_for_a_campaign_then_enrolls(staff):
    campaign = CampaignFactory(name="Autumn")
    prospects = ProspectFactory.create_batch(3)
    url = reverse("admin:crm_prospect_changelist")
    selected = [str(p.pk) for p in prospects]

    confirm = staff.post(url, {"action": "enroll_in_campaign", ACTION_CHECKBOX_NAME: selected})
    assert confirm.status_code == 200
    assert "Enroll 3 selected prospects" in confirm.content.decode()

    done = staff.post(
        url,
        {
            "action": "enroll_in_campaign",
            ACTION_CHECKBOX_NAME: selected,
            "campaign": campaign.pk,
            "apply": "Enroll",
        },
        follow=True,
    )
    assert "Enrolled 3 in Autumn" in done.content.decode()
    assert Enrollment.objects.filter(campaign=campaign).count() == 3


def test_mark_lost_and_suppress_actions(staff):
    contacted = ProspectFactory(stage=Stage.CONTACTED, email="stop@hotel.example")
    campaign = CampaignFactory()
    Enrollment.objects.create(prospect=contacted, campaign=campaign)
    url = reverse("admin:crm_prospect_changelist")

    staff.post(url, {"action": "suppress", ACTION_CHECKBOX_NAME: [contacted.pk]})
    staff.post(url, {"action": "mark_lost", ACTION_CHECKBOX_NAME: [contacted.pk]})

    contacted.refresh_from_db()
    assert contacted.stage == Stage.LOST
    assert Suppression.objects.filter(value="stop@hotel.example").exists()
    assert Enrollment.objects.get(prospect=contacted).status == Enrollment.Status.STOPPED


def test_campaign_pause_and_activate_actions(staff):
    campaign = CampaignFactory(status=Campaign.Status.ACTIVE)
    url = reverse("admin:crm_campaign_changelist")

    staff.post(url, {"action": "pause", ACTION_CHECKBOX_NAME: [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED

    staff.post(url, {"action": "activate", ACTION_CHECKBOX_NAME: [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_changelist_does_not_count_the_whole_table(staff, django_assert_max_num_queries):
    ProspectFactory.create_batch(5)
    with django_assert_max_num_queries(12) as captured:
        staff.get(reverse("admin:crm_prospect_changelist"))
    assert not any(
        "COUNT(*)" in q["sql"] and "LIMIT" not in q["sql"] and "crm_prospect" in q["sql"]
        for q in captured.captured_queries
    )


def test_a_big_filtered_list_is_counted_from_the_query_plan(staff, django_assert_max_num_queries):
    prospects_generate(12_000)  # a sixth of them ready: above the exact-count limit
    with django_assert_max_num_queries(12) as captured:
        response = staff.get(reverse("admin:crm_prospect_changelist"), {"stage": "ready"})

    assert response.status_code == 200
    sqls = [q["sql"] for q in captured.captured_queries]
    assert any(sql.startswith("EXPLAIN") for sql in sqls)
    assert not any("COUNT(" in sql and "crm_prospect" in sql for sql in sqls)


def test_inbox_add_form_stores_the_password_encrypted_and_never_shows_it(staff):
    url = reverse("admin:crm_inbox_add")
    assert staff.get(url).status_code == 200
    form = inbox_form(email="new@jengu.example", smtp_password="fresh-secret")
    response = staff.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    inbox = Inbox.objects.get(email="new@jengu.example")
    assert inbox.smtp_password == "fresh-secret"
    with connection.cursor() as cursor:
        cursor.execute("SELECT smtp_password FROM crm_inbox WHERE id = %s", [inbox.pk])
        assert "fresh-secret" not in cursor.fetchone()[0]
    change_page = staff.get(reverse("admin:crm_inbox_change", args=[inbox.pk]))
    assert "fresh-secret" not in change_page.content.decode()


def test_the_inbox_form_refuses_a_mail_host_on_a_private_address(staff):
    response = staff.post(
        reverse("admin:crm_inbox_add"), inbox_form(email="x@jengu.example", smtp_host="10.0.0.7")
    )

    assert response.status_code == 200
    assert "MAIL_HOSTS_ALLOWED_NETWORKS" in response.content.decode()
    assert not Inbox.objects.filter(email="x@jengu.example").exists()


@pytest.mark.usefixtures("two_regions")
def test_the_inbox_admin_refuses_a_region_that_is_not_configured(staff):
    inbox = InboxFactory()
    url = reverse("admin:crm_inbox_change", args=[inbox.pk])

    refused = staff.post(url, inbox_form(email=inbox.email, region="mars"))
    saved = staff.post(url, inbox_form(email=inbox.email, region="eu-west"))

    assert refused.status_code == 200
    assert "unknown region" in refused.content.decode()
    assert saved.status_code == 302
    inbox.refresh_from_db()
    assert inbox.region == "eu-west"
