"""Admin for inbound mail: label filter, the raw message readable, relabel, reprocess,
and the replies on the prospect's page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm.models import Stage
from outreach.models import InboundEmail
from tests.outreach.replies_fixtures import receive

pytestmark = pytest.mark.django_db


@pytest.fixture
def replies(contact):
    contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")
    contact("bob@hotel-denver.example", "<step1.bob@jengu.example>")
    interested, _ = receive("gmail_interested.eml")
    bounce, _ = receive("postfix_dsn_hard.eml")
    return interested, bounce


def test_changelist_filters_by_label(admin_client, replies):
    url = reverse("admin:outreach_inboundemail_changelist")

    page = admin_client.get(url, {"label__exact": "bounce_hard"}).content.decode()

    assert "Undelivered Mail Returned to Sender" in page
    assert "Re: A question for Hotel Lisboa" not in page


def test_change_page_shows_the_raw_message_readably(admin_client, replies):
    interested, _ = replies
    page = admin_client.get(
        reverse("admin:outreach_inboundemail_change", args=[interested.pk])
    ).content.decode()

    assert "Message-ID: &lt;CAJx8gmail-anna-1@mail.gmail.com&gt;" in page  # escaped, readable
    assert "rules" in page and "header" in page


def test_relabel_in_the_form_applies_the_new_labels_effects(admin_client, replies):
    interested, _ = replies
    url = reverse("admin:outreach_inboundemail_change", args=[interested.pk])

    response = admin_client.post(url, {"label": "unsubscribe", "needs_human": ""})

    assert response.status_code == 302
    interested.refresh_from_db()
    assert (interested.label, interested.method) == ("unsubscribe", "manual")
    assert interested.label_corrected_by == "user:admin"
    assert interested.prospect.stage == Stage.UNSUBSCRIBED


def test_reprocess_and_mark_handled_actions(admin_client, replies):
    interested, _ = replies
    url = reverse("admin:outreach_inboundemail_changelist")
    InboundEmail.objects.filter(pk=interested.pk).update(label="other")

    admin_client.post(url, {"action": "reprocess", "_selected_action": [interested.pk]})
    interested.refresh_from_db()
    assert interested.label == "interested"

    admin_client.post(url, {"action": "mark_handled", "_selected_action": [interested.pk]})
    interested.refresh_from_db()
    assert not interested.needs_human


def test_prospect_page_lists_its_replies_with_their_labels(admin_client, replies):
    interested, _ = replies
    page = admin_client.get(
        reverse("admin:crm_prospect_change", args=[interested.prospect_id])
    ).content.decode()

    assert "Re: A question for Hotel Lisboa" in page
    assert "interested" in page
