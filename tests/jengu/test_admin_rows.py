"""changelist_rows renders exactly the rows Django's `result_list` would."""

from datetime import UTC, datetime

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.urls import resolve, reverse

from crm.models import Enrollment, Prospect, Stage
from jengu.admin_rows import changelist_rows
from tests.factories import CampaignFactory, ProspectFactory

pytestmark = pytest.mark.django_db


def changelist(rf, admin_user, model, params):
    url = reverse(f"admin:crm_{model._meta.model_name}_changelist")
    request = rf.get(url, params)
    request.user, request.resolver_match = admin_user, resolve(url)
    cl = admin.site._registry[model].get_changelist_instance(request)
    cl.formset = None  # as changelist_view sets it for lists without editable columns
    return cl


@pytest.fixture
def prospects():
    ProspectFactory(business_name="<b>Ça & Co</b>", email="", city="   ", country="", score=1234)
    ProspectFactory(business_name="Casa Azul", stage=Stage.READY, email_status="valid")
    ProspectFactory(business_name="Legacy row", stage="archived")
    # Two rows written together and one later: each timestamp is formatted once a page.
    Prospect.objects.exclude(stage="archived").update(
        updated_at=datetime(2026, 5, 4, 13, 7, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"stage": "ready"}, {"q": "azul"}, {"o": "-2.7"}, {"country": "PT", "source": "x"}],
)
def test_prospect_rows_match_djangos(rf, admin_user, prospects, params):
    cl = changelist(rf, admin_user, Prospect, params)

    assert changelist_rows(cl) == list(results(cl))


def test_filtered_rows_link_back_with_the_filters(rf, admin_user, prospects):
    cl = changelist(rf, admin_user, Prospect, {"stage": "ready"})

    (row,) = changelist_rows(cl)

    assert "?_changelist_filters=stage%3Dready" in row[1]
    assert row[1].startswith('<th class="field-business_name"><a href="/admin/crm/prospect/')


def test_lists_with_other_columns_render_through_django(rf, admin_user):
    Enrollment.objects.create(prospect=ProspectFactory(), campaign=CampaignFactory())
    cl = changelist(rf, admin_user, Enrollment, {})

    assert changelist_rows(cl) == list(results(cl))


def test_the_prospect_list_page_never_takes_djangos_per_cell_path(
    admin_client, prospects, monkeypatch
):
    def per_cell(cl):
        raise AssertionError("rendered through admin_list.results")

    monkeypatch.setattr("jengu.admin_rows.results", per_cell)

    page = admin_client.get(reverse("admin:crm_prospect_changelist")).content.decode()

    assert page.count('<td class="action-checkbox">') == 3
    assert "&lt;b&gt;Ça &amp; Co&lt;/b&gt;" in page
