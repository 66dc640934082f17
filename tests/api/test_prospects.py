"""Prospects: the contract fields, filters, paging, conflicts, bulk upsert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Prospect, StageChange
from tests.api.conftest import ApiClient
from tests.factories import EnrollmentFactory, ProspectFactory

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "id", "business_name", "contact_name", "email", "website", "phone", "city", "country",
    "timezone", "industry", "tags", "stage", "email_status", "created_at", "updated_at",
}  # fmt: skip


def test_create_returns_the_contract_fields(api: ApiClient) -> None:
    response = api.post(
        "/prospects",
        {
            "business_name": "Hotel Sol",
            "email": "Ana@HotelSol.example",
            "website": "hotelsol.example",
            "country": "pt",
            "timezone": "Europe/Lisbon",
            "tags": ["boutique", "coast"],
            "email_status": "valid",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= CONTRACT_FIELDS
    assert body["email"] == "ana@hotelsol.example"
    assert body["website"] == "https://hotelsol.example"
    assert body["country"] == "PT"
    assert body["stage"] == "new" and body["email_status"] == "valid"
    assert Prospect.objects.get(pk=body["id"]).source == "api"


def test_duplicate_email_is_a_409(api: ApiClient) -> None:
    ProspectFactory(email="ana@hotelsol.example")
    response = api.post("/prospects", {"business_name": "Sol", "email": "ANA@hotelsol.example"})
    assert response.status_code == 409
    assert "ana@hotelsol.example" in response.json()["detail"]
    assert Prospect.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@y.example"}, "business_name"),
        ({"business_name": "A", "country": "Portugal"}, "country"),
        ({"business_name": "A", "timezone": "Mars/Olympus"}, "timezone"),
        ({"business_name": "A", "email_status": "great"}, "email_status"),
        ({"business_name": "A", "tags": "not-a-list"}, "tags"),
        ({"business_name": "A\x00B"}, None),
    ],
)
def test_invalid_fields_get_422_with_the_field_named(api: ApiClient, body, field) -> None:
    response = api.post("/prospects", body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    if field:
        assert any(field in error["loc"] for error in errors), errors
    assert Prospect.objects.count() == 0


def test_invalid_email_gets_422_with_reason(api: ApiClient) -> None:
    response = api.post("/prospects", {"business_name": "A", "email": "not-an-address"})
    assert response.status_code == 422
    assert "invalid e-mail" in response.json()["detail"][0]["msg"]


def test_list_filters(api: ApiClient) -> None:
    ready_pt = ProspectFactory(stage="ready", country="PT", email_status="valid", tags=["spa"])
    ProspectFactory(stage="ready", country="ES")
    ProspectFactory(stage="new", country="PT", business_name="Casa Azul", city="Porto")
    enrolled = EnrollmentFactory(prospect=ProspectFactory()).prospect
    campaign_id = enrolled.enrollments.get().campaign_id

    def ids(**params) -> list[int]:
        response = api.get("/prospects", **params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    assert ids(stage="ready", country="pt") == [ready_pt.pk]
    assert ids(email_status="valid") == [ready_pt.pk]
    assert ids(tag="spa") == [ready_pt.pk]
    assert ids(campaign=campaign_id) == [enrolled.pk]
    assert len(ids(search="azul")) == 1
    assert ids(search=ready_pt.email.upper()) == [ready_pt.pk]
    assert len(ids()) == 4


def test_updated_since_returns_recent_changes(api: ApiClient) -> None:
    old, recent = ProspectFactory(), ProspectFactory()
    Prospect.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    items = api.get("/prospects", updated_since=since).json()["items"]
    assert [item["id"] for item in items] == [recent.pk]


def test_pages_follow_the_cursor_without_gaps_or_repeats(api: ApiClient) -> None:
    created = {ProspectFactory().pk for _ in range(7)}
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/prospects", **params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(created, reverse=True)


def test_bad_filter_values_get_422(api: ApiClient) -> None:
    for params in ({"stage": "nope"}, {"limit": 0}, {"limit": 1000}, {"updated_since": "x"}):
        assert api.get("/prospects", **params).status_code == 422, params


def test_get_and_delete(api: ApiClient) -> None:
    prospect = ProspectFactory()
    assert api.get(f"/prospects/{prospect.pk}").json()["email"] == prospect.email
    assert api.delete(f"/prospects/{prospect.pk}").status_code == 204
    assert api.get(f"/prospects/{prospect.pk}").status_code == 404
    assert api.delete(f"/prospects/{prospect.pk}").status_code == 404


def test_patch_sets_given_fields_and_keeps_the_rest(api: ApiClient) -> None:
    prospect = ProspectFactory(phone="+351 1", city="Lisbon", domain="found.example")
    response = api.patch(f"/prospects/{prospect.pk}", {"phone": "", "industry": "hotel"})
    assert response.status_code == 200
    body = response.json()
    assert body["phone"] == "" and body["industry"] == "hotel" and body["city"] == "Lisbon"
    assert body["domain"] == "found.example"  # enrichment's finding kept


def test_patch_stage_goes_through_the_funnel(api: ApiClient) -> None:
    prospect = ProspectFactory(stage="new")
    response = api.patch(f"/prospects/{prospect.pk}", {"stage": "lost"})
    assert response.status_code == 200 and response.json()["stage"] == "lost"
    change = StageChange.objects.get(prospect=prospect)
    assert change.changed_by == "api:tests"
    refused = api.patch(f"/prospects/{prospect.pk}", {"stage": "won"})
    assert refused.status_code == 409
    assert "lost → won" in refused.json()["detail"]


def test_patch_to_a_taken_email_is_a_409(api: ApiClient) -> None:
    ProspectFactory(email="taken@hotel.example")
    prospect = ProspectFactory()
    response = api.patch(f"/prospects/{prospect.pk}", {"email": "Taken@hotel.example"})
    assert response.status_code == 409
    prospect.refresh_from_db()
    assert prospect.email != "taken@hotel.example"


def test_patch_null_is_refused_not_stored(api: ApiClient) -> None:
    prospect = ProspectFactory()
    assert api.patch(f"/prospects/{prospect.pk}", {"business_name": None}).status_code == 422


def test_bulk_upsert_reports_each_row(api: ApiClient) -> None:
    existing = ProspectFactory(email="known@hotel.example", city="Faro", phone="")
    rows = [
        {"business_name": "New Hotel", "email": "new@hotel.example"},
        {"business_name": "Known", "email": "KNOWN@hotel.example", "phone": "+351 2"},
        {"business_name": "", "email": "nameless@hotel.example"},
        {"business_name": "Twin", "email": "new@hotel.example"},
        {"business_name": existing.business_name, "email": "known@hotel.example"},
    ]
    response = api.post("/prospects/bulk", {"prospects": rows})
    assert response.status_code == 200, response.content
    body = response.json()
    statuses = [(row["index"], row["status"]) for row in body["results"]]
    assert statuses == [
        (0, "created"), (1, "updated"), (2, "error"), (3, "error"), (4, "error"),
    ]  # fmt: skip
    reasons = {row["index"]: row["reason"] for row in body["results"]}
    assert "business_name is required" in reasons[2]
    assert reasons[3] == "duplicate of row 0"
    assert reasons[4] == "duplicate of row 1"
    assert body["results"][1]["id"] == existing.pk
    assert (body["created"], body["updated"], body["errors"]) == (1, 1, 3)
    existing.refresh_from_db()
    assert existing.phone == "+351 2"


def test_bulk_row_that_is_not_an_object_refuses_the_request(api: ApiClient) -> None:
    response = api.post("/prospects/bulk", {"prospects": [{"business_name": "A"}, "B"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "prospects", 1]
    assert Prospect.objects.count() == 0


def test_bulk_with_more_than_1000_rows_is_refused(api: ApiClient) -> None:
    rows = [{"business_name": f"H{i}"} for i in range(1001)]
    response = api.post("/prospects/bulk", {"prospects": rows})
    assert response.status_code == 422
    assert Prospect.objects.count() == 0


def test_updated_since_with_an_offset_postgresql_cannot_store_is_compared_in_utc(
    api: ApiClient,
) -> None:
    ProspectFactory()
    response = api.get("/prospects", updated_since="2020-05-11T07:14:38+17:08")
    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


def test_updated_since_beyond_the_calendar_is_422_not_500(api: ApiClient) -> None:
    response = api.get("/prospects", updated_since="0001-01-01T00:00:00+05:00")
    assert response.status_code == 422
