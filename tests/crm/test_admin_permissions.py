"""Admin actions need the permission of what they do; view-only staff can do none.

Staff status lets a user into /admin/; what they may change there comes from their
permissions, i.e. their role. Each refused action leaves its rows untouched.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from crm.models import Campaign, Enrollment, Prospect, Stage
from jengu.apikeys.keys import api_key_create
from jengu.apikeys.models import ApiKey
from jengu.events.models import DeadLetter
from outreach.models import EmailMessage, InboundEmail, Suppression
from tests.dashboard.conftest import outbound, reply
from tests.factories import (
    CampaignFactory,
    EnrollmentFactory,
    ProspectFactory,
    webhook_dead_letter,
)
from tests.roles import role_user

pytestmark = pytest.mark.django_db
OUR_PACKAGES = {"crm", "enrichment", "jengu", "outreach"}


def staff_client(role: str | None) -> Client:
    client = Client()
    client.force_login(role_user(role, staff=True))
    return client


def run_action(client: Client, model: str, action: str, pks: list[int], **extra):
    url = reverse(f"admin:{model}_changelist")
    return client.post(url, {"action": action, ACTION_CHECKBOX_NAME: pks, **extra})


def test_every_admin_action_declares_the_permission_it_needs():
    undeclared = [
        f"{model._meta.label}.{name}"
        for model, model_admin in admin.site._registry.items()
        if type(model_admin).__module__.split(".")[0] in OUR_PACKAGES
        for func, name, _ in model_admin._get_base_actions()
        if name != "delete_selected" and not getattr(func, "allowed_permissions", ())
    ]

    assert undeclared == []


def test_view_only_staff_are_offered_no_action_on_any_list():
    client = staff_client("Viewer")

    for model in ("crm_prospect", "crm_campaign", "outreach_pendingapproval"):
        response = client.get(reverse(f"admin:{model}_changelist"))
        assert response.status_code == 200
        assert (
            response.context["action_form"] is None
            or [
                value
                for value, _ in response.context["action_form"].fields["action"].choices
                if value
            ]
            == []
        )


@pytest.mark.parametrize("role", [None, "Viewer"])
def test_view_only_staff_cannot_change_anything_through_actions(role):
    client = staff_client(role)
    campaign = CampaignFactory(status=Campaign.Status.DRAFT)
    prospect = ProspectFactory(email="keep@hotel.example", stage=Stage.READY)
    pending = outbound(enrollment=EnrollmentFactory(), step=1, status="pending_approval")
    uncertain = outbound(enrollment=EnrollmentFactory(), step=1, status="uncertain")
    inbound = reply(to=pending, label="other", needs_human=True)
    key = api_key_create(name="integration").api_key
    letter = webhook_dead_letter()

    run_action(client, "crm_campaign", "activate", [campaign.pk])
    run_action(client, "crm_prospect", "suppress", [prospect.pk])
    run_action(client, "crm_prospect", "mark_lost", [prospect.pk])
    run_action(client, "crm_prospect", "enroll_in_campaign", [prospect.pk],
               campaign=campaign.pk, apply="Enroll")  # fmt: skip
    run_action(client, "outreach_pendingapproval", "approve_selected", [pending.pk])
    run_action(client, "outreach_emailmessage", "send_uncertain_again", [uncertain.pk])
    run_action(client, "outreach_inboundemail", "relabel_interested", [inbound.pk])
    run_action(client, "apikeys_apikey", "revoke", [key.pk])
    run_action(client, "events_deadletter", "requeue", [letter.pk])

    campaign.refresh_from_db()
    prospect.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert prospect.stage == Stage.READY
    assert not Suppression.objects.filter(value="keep@hotel.example").exists()
    assert not Enrollment.objects.filter(prospect=prospect).exists()
    assert EmailMessage.objects.get(pk=pending.pk).status == "pending_approval"
    assert EmailMessage.objects.get(pk=uncertain.pk).status == "uncertain"
    assert InboundEmail.objects.get(pk=inbound.pk).label == "other"
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert DeadLetter.objects.get(pk=letter.pk).requeue_count == 0


def test_sales_staff_approve_enroll_and_suppress_but_cannot_revoke_keys_or_requeue():
    client = staff_client("Sales")
    campaign = CampaignFactory()
    prospect = ProspectFactory(email="stop@hotel.example", stage=Stage.READY)
    pending = outbound(enrollment=EnrollmentFactory(), step=1, status="pending_approval")
    key = api_key_create(name="integration").api_key
    letter = webhook_dead_letter()

    run_action(client, "outreach_pendingapproval", "approve_selected", [pending.pk])
    run_action(client, "crm_prospect", "enroll_in_campaign", [prospect.pk],
               campaign=campaign.pk, apply="Enroll")  # fmt: skip
    run_action(client, "crm_prospect", "suppress", [prospect.pk])
    revoke = run_action(client, "apikeys_apikey", "revoke", [key.pk])
    requeue = run_action(client, "events_deadletter", "requeue", [letter.pk])

    assert EmailMessage.objects.get(pk=pending.pk).status == EmailMessage.Status.QUEUED
    assert Enrollment.objects.filter(prospect=prospect, campaign=campaign).exists()
    assert Suppression.objects.filter(value="stop@hotel.example").exists()
    assert (revoke.status_code, requeue.status_code) == (403, 403)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert DeadLetter.objects.get(pk=letter.pk).requeue_count == 0


def test_operator_staff_revoke_keys_and_requeue_dead_letters():
    client = staff_client("Operator")
    key = api_key_create(name="integration").api_key
    letter = webhook_dead_letter()

    run_action(client, "apikeys_apikey", "revoke", [key.pk])
    run_action(client, "events_deadletter", "requeue", [letter.pk])

    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert DeadLetter.objects.get(pk=letter.pk).requeue_count == 1


def test_a_prospect_stays_unchanged_for_view_only_staff_in_the_change_form():
    client = staff_client("Viewer")
    prospect = ProspectFactory(business_name="Casa Azul")

    response = client.post(
        reverse("admin:crm_prospect_change", args=[prospect.pk]), {"business_name": "Hacked"}
    )

    assert response.status_code == 403
    assert Prospect.objects.get(pk=prospect.pk).business_name == "Casa Azul"
